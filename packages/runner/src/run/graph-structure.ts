/**
 * The graph form of sparse execution (issue 9): a CNN with batch norm, residual blocks and dropout — the zoo's
 * WideResNets (docs/algorithm.md#models) and any tfjs-layers model whose masked weights are Conv2D filters
 * (run sparse) or weights of other layers (trained densely with their masks, e.g. the classifier). The model's
 * layers become the nodes of backend-native's `SparseGraphTrainer` in the model's topological order: each
 * Conv2D a sparse conv node (a `ZeroPadding2D` feeding only it folded into its explicit padding), every other
 * layer run as itself.
 */
import * as tf from '@tensorflow/tfjs-core';
import { convGeometry, type ConvGeometry, type SparseGraphNode } from '@sparse-learning/backend-native';
import type { ZooModel } from '@sparse-learning/models';

/** One Conv2D of the graph. */
export interface GraphConvInfo {
  readonly layerName: string;
  readonly weightName: string;
  readonly biasName: string | null;
  readonly kh: number;
  readonly kw: number;
  readonly inChannels: number;
  readonly outChannels: number;
  readonly geometry: ConvGeometry;
  /** False when the conv reads the network's input. */
  readonly needsInputGradient: boolean;
}

/** What {@link graphStructure} found: the nodes (conv nodes index `convs`), the convs, the output node. */
export interface GraphStructure {
  readonly nodes: SparseGraphNode[];
  readonly convs: GraphConvInfo[];
  readonly output: string;
  /** Trainable variables that are not sparse conv filters (trained by the optimizer). */
  readonly params: string[];
}

interface LayerLike {
  readonly name: string;
  getClassName(): string;
  getConfig(): Record<string, unknown>;
  readonly inboundNodes: { readonly inboundLayers: LayerLike[] }[];
  readonly outboundNodes: unknown[];
  readonly outputShape: unknown;
  apply(inputs: tf.Tensor | tf.Tensor[], kwargs?: Record<string, unknown>): unknown;
}

/** Conv-like layers the graph form cannot run (their weights would silently train densely). */
const UNSUPPORTED = new Set(['DepthwiseConv2D', 'SeparableConv2D', 'Conv2DTranspose', 'Conv1D', 'Conv3D', 'ConvLSTM2D']);

/** The graph form of `model` (it must have at least one Conv2D), else why not. */
export function graphStructure(model: ZooModel): GraphStructure | { reason: string } {
  const layers = model.layersModel.layers as unknown as LayerLike[];
  const variables = new Map(model.variables.map((v) => [v.name, v]));
  const nodes: SparseGraphNode[] = [];
  const convs: GraphConvInfo[] = [];
  const folded = new Set<string>();
  const shapeOf = (layer: LayerLike): number[] => {
    const s = layer.outputShape as (number | null)[];
    return s.slice(1) as number[];
  };
  const inputName = layers.find((l) => l.getClassName() === 'InputLayer')?.name;
  for (const layer of layers) {
    const kind = layer.getClassName();
    if (UNSUPPORTED.has(kind)) return { reason: `model '${model.id}' has a ${kind} layer ('${layer.name}'); sparse execution runs Conv2D filters only` };
    if (layer.inboundNodes.length > 1) return { reason: `layer '${layer.name}' is applied more than once (shared layers are not supported)` };
    if (kind === 'InputLayer') {
      nodes.push({ kind: 'input', name: layer.name });
      continue;
    }
    const inbound = layer.inboundNodes[0]?.inboundLayers ?? [];
    if (kind === 'Conv2D') {
      const config = layer.getConfig() as { kernelSize?: number[]; strides?: number[]; padding?: string; dataFormat?: string; dilationRate?: number[] | number; activation?: string };
      const dilation = Array.isArray(config.dilationRate) ? config.dilationRate : [config.dilationRate ?? 1];
      if (config.dataFormat !== 'channelsLast') return { reason: `Conv2D layer '${layer.name}' is not channels-last` };
      if (dilation.some((d) => d !== 1)) return { reason: `Conv2D layer '${layer.name}' is dilated` };
      if (config.activation && config.activation !== 'linear') return { reason: `Conv2D layer '${layer.name}' has a fused '${config.activation}' activation` };
      if (config.padding !== 'valid' && config.padding !== 'same') return { reason: `Conv2D layer '${layer.name}' has padding '${config.padding}'` };
      const weight = variables.get(`${layer.name}.weight`);
      if (!weight || weight.variable.shape.length !== 4) return { reason: `Conv2D layer '${layer.name}' has no '${layer.name}.weight' variable` };
      const [kh, kw, cin, cout] = weight.variable.shape;
      const [sh, sw] = config.strides ?? [1, 1];
      let source = inbound[0];
      let pad: [number, number] = [0, 0];
      // A ZeroPadding2D feeding only this conv (PyTorch's symmetric padding of stride-2 convs) becomes the
      // conv's explicit top/left padding; the bottom/right padding follows from the output size.
      if (source?.getClassName() === 'ZeroPadding2D' && config.padding === 'valid' && source.outboundNodes.length === 1) {
        const p = (source.getConfig() as { padding?: [[number, number], [number, number]] }).padding;
        if (p && p[0][0] === p[0][1] && p[1][0] === p[1][1] && p[0][0] < kh && p[1][0] < kw) {
          pad = [p[0][0], p[1][0]];
          folded.add(source.name);
          source = source.inboundNodes[0].inboundLayers[0];
        }
      }
      if (!source) return { reason: `Conv2D layer '${layer.name}' has no input` };
      const [h, w, c] = shapeOf(source);
      if (c !== cin) return { reason: `Conv2D layer '${layer.name}' does not match its input (${h}×${w}×${c})` };
      const [oh, ow] = shapeOf(layer);
      let geometry: ConvGeometry;
      if (pad[0] > 0 || pad[1] > 0) {
        geometry = { oh, ow, padTop: pad[0], padLeft: pad[1], geom: Int32Array.from([h, w, oh, ow, sh, sw, pad[0], pad[1]]) };
      } else {
        geometry = convGeometry(h, w, kh, kw, [sh, sw], config.padding);
        if (geometry.oh !== oh || geometry.ow !== ow) return { reason: `Conv2D layer '${layer.name}': output ${oh}×${ow} differs from the sparse geometry ${geometry.oh}×${geometry.ow}` };
      }
      const bias = variables.get(`${layer.name}.bias`);
      convs.push({
        layerName: layer.name,
        weightName: weight.name,
        biasName: bias?.name ?? null,
        kh,
        kw,
        inChannels: cin,
        outChannels: cout,
        geometry,
        needsInputGradient: source.name !== inputName,
      });
      nodes.push({ kind: 'conv', name: layer.name, input: source.name, conv: convs.length - 1, bias: bias?.variable });
      continue;
    }
    const apply = (inputs: readonly tf.Tensor[], training: boolean): tf.Tensor =>
      layer.apply(inputs.length === 1 ? inputs[0] : [...inputs], { training }) as tf.Tensor;
    nodes.push({ kind: 'layer', name: layer.name, inputs: inbound.map((l) => l.name), apply });
  }
  if (convs.length === 0) return { reason: `model '${model.id}' has no Conv2D layer` };
  const kept = nodes.filter((n) => !folded.has(n.name));
  const outputs = model.layersModel.outputs;
  if (outputs.length !== 1) return { reason: `model '${model.id}' has ${outputs.length} outputs` };
  const output = outputs[0].sourceLayer.name;
  const convWeights = new Set(convs.map((c) => c.weightName));
  const params = model.variables.filter((v) => v.trainable && !convWeights.has(v.name)).map((v) => v.name);
  return { nodes: kept, convs, output, params };
}

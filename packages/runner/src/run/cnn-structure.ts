/**
 * The structure check of sparse execution for convolutional models (issue 9): a model is trained by
 * `SparseCnnTrainer` when it is `Input → (Conv2D → ReLU [→ MaxPooling2D 2×2/2])+ → Flatten → (Dense → ReLU)* →
 * Dense` — LeNet-5-Caffe (docs/algorithm.md#models) and any zoo model of that form. Everything else (batch
 * norm, dropout, residual blocks, explicit zero padding, strided pooling of other sizes) trains masked.
 */
import { convGeometry } from '@sparse-learning/backend-native';
import type { ZooModel } from '@sparse-learning/models';

/** One conv stage: `pool?(relu(conv(x) + b))`. */
export interface ConvStageInfo {
  readonly weightName: string;
  readonly biasName: string;
  readonly kh: number;
  readonly kw: number;
  readonly inChannels: number;
  readonly outChannels: number;
  readonly inH: number;
  readonly inW: number;
  readonly stride: number;
  readonly padding: 'valid' | 'same';
  readonly pool: boolean;
}

/** One Dense layer after the flatten. */
export interface CnnDenseInfo {
  readonly weightName: string;
  readonly biasName: string | null;
  readonly inFeatures: number;
  readonly outFeatures: number;
  readonly relu: boolean;
}

/** What {@link cnnStructure} found. */
export interface CnnStructure {
  readonly convs: ConvStageInfo[];
  readonly dense: CnnDenseInfo[];
  /** Channels, height and width entering the flatten. */
  readonly flatten: { readonly c: number; readonly h: number; readonly w: number };
}

interface ConvConfig {
  kernelSize?: number[];
  strides?: number[];
  padding?: string;
  dataFormat?: string;
  dilationRate?: number[] | number;
  activation?: string;
  useBias?: boolean;
}

/** The conv stages and Dense layers of `model` when it has the form above, else why not. */
export function cnnStructure(model: ZooModel): CnnStructure | { reason: string } {
  const convs: ConvStageInfo[] = [];
  const dense: CnnDenseInfo[] = [];
  let [h, w, c] = model.inputShape;
  let phase: 'conv' | 'relu' | 'pool' | 'flat' | 'dense' = 'conv';
  const variable = (name: string) => model.variables.find((v) => v.name === name);
  for (const layer of model.layersModel.layers) {
    const kind = layer.getClassName();
    if (kind === 'InputLayer') continue;
    if (kind === 'Conv2D') {
      if (phase !== 'conv' && phase !== 'pool') return { reason: `Conv2D layer '${layer.name}' does not start a conv stage (Conv2D → ReLU [→ MaxPooling2D])` };
      const config = layer.getConfig() as ConvConfig;
      const [kh, kw] = config.kernelSize ?? [];
      const [sh, sw] = config.strides ?? [1, 1];
      const dilation = Array.isArray(config.dilationRate) ? config.dilationRate : [config.dilationRate ?? 1];
      if (config.dataFormat !== 'channelsLast') return { reason: `Conv2D layer '${layer.name}' is not channels-last` };
      if (dilation.some((d) => d !== 1)) return { reason: `Conv2D layer '${layer.name}' is dilated` };
      if (sh !== sw) return { reason: `Conv2D layer '${layer.name}' has unequal strides ${sh}×${sw}` };
      if (config.padding !== 'valid' && config.padding !== 'same') return { reason: `Conv2D layer '${layer.name}' has padding '${config.padding}'` };
      if (config.activation && config.activation !== 'linear') return { reason: `Conv2D layer '${layer.name}' has a fused '${config.activation}' activation` };
      if (config.useBias === false) return { reason: `Conv2D layer '${layer.name}' has no bias (sparse conv stages fuse conv + bias + ReLU)` };
      const weight = variable(`${layer.name}.weight`);
      const bias = variable(`${layer.name}.bias`);
      if (!weight || !bias || weight.variable.shape.length !== 4) return { reason: `Conv2D layer '${layer.name}' has no '${layer.name}.weight'/'.bias' variables` };
      const [, , cin, cout] = weight.variable.shape;
      if (cin !== c || weight.variable.shape[0] !== kh || weight.variable.shape[1] !== kw) return { reason: `Conv2D layer '${layer.name}' does not match its input (${h}×${w}×${c})` };
      const geometry = convGeometry(h, w, kh, kw, [sh, sw], config.padding);
      convs.push({ weightName: weight.name, biasName: bias.name, kh, kw, inChannels: cin, outChannels: cout, inH: h, inW: w, stride: sh, padding: config.padding, pool: false });
      [h, w, c] = [geometry.oh, geometry.ow, cout];
      phase = 'relu';
      continue;
    }
    if (kind === 'ReLU' && phase === 'relu') {
      phase = 'pool';
      continue;
    }
    if (kind === 'MaxPooling2D' && phase === 'pool' && !convs[convs.length - 1].pool) {
      const config = layer.getConfig() as { poolSize?: number[]; strides?: number[]; padding?: string };
      const [ph, pw] = config.poolSize ?? [];
      const [sh, sw] = config.strides ?? [];
      if (ph !== 2 || pw !== 2 || sh !== 2 || sw !== 2 || config.padding !== 'valid') {
        return { reason: `MaxPooling2D layer '${layer.name}' is not 2×2 with stride 2 and 'valid' padding` };
      }
      if (h < 2 || w < 2) return { reason: `MaxPooling2D layer '${layer.name}' pools a ${h}×${w} map` };
      convs[convs.length - 1] = { ...convs[convs.length - 1], pool: true };
      [h, w] = [Math.floor(h / 2), Math.floor(w / 2)];
      continue;
    }
    if (kind === 'Flatten' && phase === 'pool') {
      phase = 'flat';
      continue;
    }
    if (kind === 'Dense' && (phase === 'flat' || phase === 'dense')) {
      const config = layer.getConfig() as { activation?: string };
      if (config.activation && config.activation !== 'linear') return { reason: `Dense layer '${layer.name}' has a fused '${config.activation}' activation` };
      const weight = variable(`${layer.name}.weight`);
      const bias = variable(`${layer.name}.bias`);
      if (!weight || weight.variable.shape.length !== 2) return { reason: `Dense layer '${layer.name}' has no '${layer.name}.weight' variable` };
      const [inFeatures, outFeatures] = weight.variable.shape;
      const expected = dense.length === 0 ? c * h * w : dense[dense.length - 1].outFeatures;
      if (inFeatures !== expected) return { reason: `Dense layer '${layer.name}' has ${inFeatures} inputs, expected ${expected}` };
      dense.push({ weightName: weight.name, biasName: bias?.name ?? null, inFeatures, outFeatures, relu: false });
      phase = 'dense';
      continue;
    }
    if (kind === 'ReLU' && phase === 'dense' && !dense[dense.length - 1].relu) {
      dense[dense.length - 1] = { ...dense[dense.length - 1], relu: true };
      continue;
    }
    return { reason: `model '${model.id}' has a ${kind} layer ('${layer.name}') where sparse execution expects Conv2D → ReLU [→ MaxPooling2D 2×2] stages, then Flatten and Dense/ReLU layers` };
  }
  if (convs.length === 0) return { reason: `model '${model.id}' has no Conv2D layer` };
  if (dense.length === 0) return { reason: `model '${model.id}' has no Dense layer after its conv stages` };
  if (dense[dense.length - 1].relu) return { reason: 'the last Dense layer must output logits (no ReLU)' };
  return { convs, dense, flatten: { c, h, w } };
}

/**
 * The library version written into every checkpoint and sparse-export header, so a file says which release
 * produced it. Kept as a constant (not an import of `package.json`) so the build needs no JSON import; a test
 * checks that it equals `package.json`'s version.
 */
export const LIBRARY_VERSION = '0.1.0';

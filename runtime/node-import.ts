// Node-only modules for code that also runs in pages (the WebGPU device, the wasm back end's
// threads): imported only on the Node path, by a name that esbuild and Vite do not try to resolve
// when they bundle for a browser.

export const nodeImport = <T>(name: string): Promise<T> => import(/* @vite-ignore */ name) as Promise<T>;

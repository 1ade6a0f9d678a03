// The virtual module build.ts generates: every stdlib/*.cnn file by name.
declare module 'cnnc-playground:stdlib' {
  export const STDLIB_FILES: Readonly<Record<string, string>>;
}

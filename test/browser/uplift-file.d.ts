// An entry bundled by test/helpers/browser.ts imports a .uplift weights file as its bytes.
declare module '*.uplift' {
  const bytes: Uint8Array;
  export default bytes;
}

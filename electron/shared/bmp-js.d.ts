declare module 'bmp-js' {
  interface BmpImage {
    data: Buffer;
    width: number;
    height: number;
  }
  const bmp: {
    decode(buffer: Buffer, withAlpha?: boolean): BmpImage;
    encode(image: BmpImage, quality?: number): { data: Buffer; width: number; height: number };
  };
  export default bmp;
}

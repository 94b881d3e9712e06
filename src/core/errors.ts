/**
 * An error about input the user gave (a file, a flag, a frame, a value). Its message names the
 * input and the problem; the CLI prints it as one line, without a stack trace, and exits 1.
 */
export class InputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InputError';
  }
}

/**
 * The GPU could not do what was asked (a device limit, a validation error, out of memory): the
 * message names the limit or the refusal and what was not written. The CLI prints it as one line.
 */
export class GpuRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GpuRefusedError';
  }
}

/**
 * The GPU device an upscaler was made on is lost (destroyed, a driver reset, a removed GPU): its
 * images are gone. Create a new device and a new upscaler (`Upscaler.lost` says when it happens).
 */
export class DeviceLostError extends GpuRefusedError {
  constructor(message: string) {
    super(message);
    this.name = 'DeviceLostError';
  }
}

// One error type for everything the lab reports to a person: the message
// says what failed, where, and what to do; the CLI prints it without a stack.

export class LabError extends Error {
  /** Exit code the CLI uses for this error. */
  readonly exitCode: number;

  constructor(message: string, exitCode = 1) {
    super(message);
    this.name = "LabError";
    this.exitCode = exitCode;
  }
}

/** Exit code for usage mistakes (unknown verb, box or option). */
export const USAGE_EXIT = 2;

export function usageError(message: string): LabError {
  return new LabError(`${message}\nRun 'npm run lab -- help' for usage.`, USAGE_EXIT);
}

// Commander argument parsers shared by the commands: each rejects bad values
// with a message commander prints next to the option's name.
import { InvalidArgumentError } from "commander";

/** An integer >= min. */
export const intOption = (min: number) => (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`expected an integer >= ${min}`);
  return n;
};

/** A number in [lo, hi]. */
export const numberOption = (lo: number, hi: number) => (v: string): number => {
  const n = Number(v);
  if (!(n >= lo && n <= hi)) throw new InvalidArgumentError(`expected a number in [${lo}, ${hi}]`);
  return n;
};

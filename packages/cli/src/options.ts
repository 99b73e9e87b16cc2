// Commander argument parsers shared by the commands: each rejects bad values
// with a message commander prints next to the option's name.
import { InvalidArgumentError } from "commander";

/** An integer >= min. */
export const intOption = (min: number) => (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`expected an integer >= ${min}`);
  return n;
};

/** A number in [lo, hi], or in (lo, hi] with openLow. */
export const numberOption = (lo: number, hi: number, openLow = false) => (v: string): number => {
  const n = Number(v);
  if (!((openLow ? n > lo : n >= lo) && n <= hi)) throw new InvalidArgumentError(`expected a number in ${openLow ? "(" : "["}${lo}, ${hi}]`);
  return n;
};

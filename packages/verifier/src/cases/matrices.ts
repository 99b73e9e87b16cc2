import { c, type Case } from "./types.js";

export const matrices: Case[] = [
  c("\\begin{pmatrix}1&2\\\\3&4\\end{pmatrix}", "\\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix}", true, "spacing in a matrix"),
  c("\\begin{bmatrix}1&2\\\\3&4\\end{bmatrix}", "\\begin{pmatrix}1&2\\\\3&4\\end{pmatrix}", true, "bracket style does not matter"),
  c("\\begin{pmatrix}1&2\\\\4&3\\end{pmatrix}", "\\begin{pmatrix}1&2\\\\3&4\\end{pmatrix}", false, "swapped entries"),
  c("\\begin{pmatrix}\\frac12\\\\ 2\\end{pmatrix}", "\\begin{pmatrix} 0.5 \\\\ 2 \\end{pmatrix}", true, "entries compared by value"),
  c("\\begin{pmatrix}1\\\\2\\end{pmatrix}", "\\begin{pmatrix}1&2\\end{pmatrix}", false, "a column is not a row"),
  c("\\begin{pmatrix}1&2&3\\end{pmatrix}", "\\begin{pmatrix}1&2\\end{pmatrix}", false, "different sizes"),
  c("\\begin{pmatrix}\\sqrt{8}\\\\1\\end{pmatrix}", "\\begin{pmatrix}2\\sqrt{2}\\\\1\\end{pmatrix}", true, "symbolic entries"),
  c("\\begin{pmatrix}-1&0\\\\0&-1\\end{pmatrix}", "\\begin{pmatrix}-1&0\\\\0&-1\\end{pmatrix}", true, "negative entries"),
  c("\\begin{pmatrix}-1&0\\\\0&1\\end{pmatrix}", "\\begin{pmatrix}-1&0\\\\0&-1\\end{pmatrix}", false, "one sign differs"),
  c("\\begin{pmatrix}x\\\\y\\end{pmatrix}", "\\begin{pmatrix}x\\\\y\\end{pmatrix}", true, "symbols"),
  c("\\begin{pmatrix} 4 \\\\ 5 \\\\ 6 \\end{pmatrix}", "\\begin{pmatrix}4\\\\5\\\\6\\end{pmatrix}", true, "a vector"),
  c("\\begin{pmatrix} 4 \\\\ 6 \\\\ 5 \\end{pmatrix}", "\\begin{pmatrix}4\\\\5\\\\6\\end{pmatrix}", false, "a vector is ordered"),
  c("\\begin{vmatrix}1&0\\\\0&1\\end{vmatrix}", "\\begin{pmatrix}1&0\\\\0&1\\end{pmatrix}", true, "entries only: the verifier does not evaluate determinants"),
];

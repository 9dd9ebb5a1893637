/** Comma-separated flag values: `a, b,,c` → ['a', 'b', 'c']. */
export function splitList(value: string): string[] {
  return value
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
}

/**
 * A unified-style line diff (`-` committed, `+` current, 2 lines of context), enough to show what
 * changed in a report without a diff tool on the machine. At most `maxLines` lines.
 */
function lineDiff(before, after, { context = 2, maxLines = 200 } = {}) {
  const a = before.split('\n');
  const b = after.split('\n');
  // Only the middle that differs goes through the quadratic longest-common-subsequence table.
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let end = 0;
  while (
    end < a.length - start &&
    end < b.length - start &&
    a[a.length - 1 - end] === b[b.length - 1 - end]
  )
    end++;
  const x = a.slice(start, a.length - end);
  const y = b.slice(start, b.length - end);
  const lcs = Array.from({ length: x.length + 1 }, () => new Uint32Array(y.length + 1));
  for (let i = x.length - 1; i >= 0; i--)
    for (let j = y.length - 1; j >= 0; j--)
      lcs[i][j] = x[i] === y[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);

  const ops = a.slice(0, start).map((line) => [' ', line]);
  let i = 0;
  let j = 0;
  while (i < x.length || j < y.length) {
    if (i < x.length && j < y.length && x[i] === y[j]) {
      ops.push([' ', x[i++]]);
      j++;
    } else if (i < x.length && (j === y.length || lcs[i + 1][j] >= lcs[i][j + 1]))
      ops.push(['-', x[i++]]);
    else ops.push(['+', y[j++]]);
  }
  ops.push(...a.slice(a.length - end).map((line) => [' ', line]));

  const near = (index) =>
    ops.slice(Math.max(0, index - context), index + context + 1).some(([mark]) => mark !== ' ');
  const lines = [];
  ops.forEach(([mark, line], index) => {
    if (near(index)) lines.push(`${mark} ${line}`);
    else if (index > 0 && near(index - 1)) lines.push('  ...');
  });
  if (lines.length <= maxLines) return lines.join('\n');
  return [...lines.slice(0, maxLines), `  ... (${lines.length - maxLines} more diff lines)`].join(
    '\n',
  );
}

module.exports = { lineDiff };

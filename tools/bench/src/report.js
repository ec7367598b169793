'use strict';
/**
 * Markdown rendering of a bench result: one table per workload (medians ± half the min-max
 * spread across repetitions, ratios to direct, CPU as a multiple of the node:http2 floor), the
 * project's goals, and the profile summary.
 */

const MiB = 1024 * 1024;

/** `12.3` with `digits` decimals, or an em dash for missing values. */
function num(value, digits = 2) {
  if (!Number.isFinite(value)) return '—';
  if (Math.abs(value) >= 1000) return Math.round(value).toLocaleString('en-US');
  return value.toFixed(digits);
}

/** A median with its spread: `12,345 ±3%`. */
function withSpread(summary, digits = 2, scale = 1) {
  if (!summary || !Number.isFinite(summary.median)) return '—';
  const spread =
    Number.isFinite(summary.spread) && summary.n > 1
      ? ` ±${Math.round(summary.spread * 100)}%`
      : '';
  return `${num(summary.median / scale, digits)}${spread}`;
}

/** A median with its min–max range: `5.5 (1.2–30.1)`, for figures too noisy for a ±%. */
function withRange(summary, digits = 1, scale = 1) {
  if (!summary || !Number.isFinite(summary.median)) return '—';
  const range =
    summary.n > 1
      ? ` (${num(summary.min / scale, digits)}–${num(summary.max / scale, digits)})`
      : '';
  return `${num(summary.median / scale, digits)}${range}`;
}

/** A ratio such as `0.53×`. */
function times(value) {
  return Number.isFinite(value) ? `${value.toFixed(2)}×` : '—';
}

function table(header, rows) {
  const line = (cells) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/** A ratio to direct; none for the floor rows, which serve other calls than the proxies. */
function relative(row, value) {
  if (row.kind === 'direct') return '1.00×';
  return row.kind === 'floor' ? '—' : times(value);
}

/** The table of a throughput workload (unary or stream). */
function loadTable(workload) {
  const unit = workload.kind === 'stream' ? 'msgs/s' : 'calls/s';
  const per = workload.kind === 'stream' ? 'msgs' : 'calls';
  const header = [
    'Row',
    unit,
    '×direct',
    'p50 ms',
    'p99 ms',
    'p99 ×direct',
    `proxy CPU s/10k ${per}`,
  ];
  if (workload.floor) header.push('CPU ×floor');
  header.push('proxy peak RSS MiB');
  const rows = workload.rows.map((row) => {
    const cells = [
      row.label,
      withSpread(row.figures.callsPerSecond, 0),
      relative(row, row.ratios.callsPerSecond),
      withSpread(row.figures.p50Ms, 2),
      withSpread(row.figures.p99Ms, 2),
      relative(row, row.ratios.p99Ms),
      withSpread(row.figures.cpuPer10k, 2),
    ];
    if (workload.floor) cells.push(times(row.ratios.cpuToFloor));
    cells.push(num(row.figures.peakRssBytes.max / MiB, 1));
    return cells;
  });
  return table(header, rows);
}

function idleTable(workload) {
  const header = [
    'Row',
    `open ${workload.streams} streams ms`,
    'RSS per stream KiB, median (min–max)',
    'RSS with streams open MiB',
    'peak RSS MiB',
  ];
  const rows = workload.rows.map((row) => [
    row.id === 'direct' ? `${row.label} — backend's memory` : row.label,
    withSpread(row.figures.openMs, 0),
    withRange(row.figures.bytesPerStream, 1, 1024),
    withSpread(row.figures.rssOpenBytes, 1, MiB),
    num(row.figures.peakRssBytes.max / MiB, 1),
  ]);
  return table(header, rows);
}

function problems(workload) {
  const lines = [];
  for (const row of workload.rows) {
    if (row.errors) {
      const first = row.firstErrors?.length ? ` (${row.firstErrors.join('; ')})` : '';
      lines.push(`- ${row.label}: ${row.errors} failed calls or streams${first}`);
    }
    for (const failure of new Set(row.failures))
      lines.push(`- ${row.label}: run failed: ${failure.split('\n')[0]}`);
  }
  return lines.join('\n');
}

function workloadSection(workload, generator) {
  const parts = [`### ${workload.title}`, ''];
  if (workload.kind === 'unary') parts.push(`Load: ${generator}.`, '');
  if (workload.kind !== 'unary')
    parts.push('Load: the built-in grpc-js generator (separate process).', '');
  parts.push(workload.kind === 'idle' ? idleTable(workload) : loadTable(workload));
  if (workload.floor) {
    const { server, client, total } = workload.floor;
    parts.push(
      '',
      `Node floor, same run: server ${num(server)} + client ${num(client)} = **${num(total)} s per 10 000 calls**.`,
    );
  }
  const issues = problems(workload);
  if (issues) parts.push('', issues);
  return parts.join('\n');
}

/** The project's goals (issue 8), evaluated for every proxy row. */
function goals(result) {
  const byId = Object.fromEntries(result.workloads.map((w) => [w.id, w]));
  const proxies = result.workloads.flatMap((w) => w.rows).filter((r) => r.kind === 'proxy');
  const ids = [...new Set(proxies.map((r) => r.id))];
  const labels = ids.map((id) => proxies.find((r) => r.id === id).label);
  const rowOf = (workloadId, id) => byId[workloadId]?.rows.find((r) => r.id === id);
  const peakUnderLoad = (id) =>
    Math.max(
      ...result.workloads
        .filter((w) => w.kind !== 'idle')
        .map((w) => w.rows.find((r) => r.id === id)?.figures.peakRssBytes.max)
        .filter(Number.isFinite),
    ) / MiB;
  const check = (value, ok, text) => (Number.isFinite(value) ? `${text} ${ok ? '✅' : '❌'}` : '—');
  const goalRows = [
    [
      'proxy CPU per unary call ÷ Node floor',
      '≤ 1.15',
      (id) => {
        const v = rowOf('unary-100B-c100', id)?.ratios.cpuToFloor;
        return check(v, v <= 1.15, times(v));
      },
    ],
    [
      'unary throughput ÷ direct (100 B × 100)',
      '≥ 0.5',
      (id) => {
        const v = rowOf('unary-100B-c100', id)?.ratios.callsPerSecond;
        return check(v, v >= 0.5, times(v));
      },
    ],
    [
      '64 KiB stream throughput ÷ direct',
      '≥ 0.8',
      (id) => {
        const v = rowOf('bidi-64KiB', id)?.ratios.callsPerSecond;
        return check(v, v >= 0.8, times(v));
      },
    ],
    [
      'proxy peak RSS under load',
      '≤ 80 MiB',
      (id) => {
        const v = peakUnderLoad(id);
        return check(v, v <= 80, `${num(v, 1)} MiB`);
      },
    ],
  ];
  return table(
    ['Goal', 'target', ...labels],
    goalRows.map(([goal, target, cell]) => [goal, target, ...ids.map(cell)]),
  );
}

function profileSection(profile) {
  if (!profile) return '';
  if (profile.error) return `## Profile\n\nNo profile: ${profile.error}`;
  const s = profile.summary;
  const perCall = (us) => (us === undefined ? '—' : num(us, 1));
  const unit = profile.unit ?? 'call';
  const parts = [
    `## Profile: ${profile.label} under ${profile.workload ?? 'unary 100 B × 100 concurrent'}`,
    '',
    `\`node --cpu-prof\` of the proxy while ${profile.generator} ran for ${num(profile.seconds, 1)} s: ` +
      `${s.calls?.toLocaleString('en-US')} ${unit}s, ${num(s.busyMs, 0)} ms of sampled CPU on the main thread` +
      `${s.windowed ? ' inside the window' : ' (whole process lifetime)'}, **${perCall(s.busyUsPerCall)} µs per ${unit}**.`,
    '',
    table(
      ['Where the time goes', 'self ms', '%', `µs per ${unit}`],
      s.categories.map((c) => [
        c.category,
        num(c.selfMs, 0),
        num(c.percent, 1),
        perCall(c.usPerCall),
      ]),
    ),
    '',
    'Top self-time functions:',
    '',
    table(
      ['Function', 'Location', 'self ms', '%', `µs per ${unit}`],
      s.functions.map((f) => [
        `\`${f.functionName}\``,
        f.location ? `\`${f.location}\`` : '',
        num(f.selfMs, 0),
        num(f.percent, 1),
        perCall(f.usPerCall),
      ]),
    ),
  ];
  return parts.join('\n');
}

/** The whole report. */
function renderMarkdown(result) {
  const m = result.machine;
  const parts = [
    `# grpc-proxy bench — ${result.mode} run, ${result.date}`,
    '',
    `Date: ${result.date} (${result.mode} run, ${num(result.elapsedSeconds, 0)} s).`,
    `Machine: ${m.cpuModel}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.os}. ` +
      `Load average ${m.loadBefore.join(' ')} before, ${m.loadAfter?.join(' ') ?? '?'} after.`,
    `Node.js ${m.node} for every Node process of the run (backend, proxies, floor, generators).`,
    `Peers: ${result.peers.join('; ') || 'none'}.`,
    `Method: ${result.preset.reps} interleaved repetitions per row (order rotated each time), ` +
      `${result.preset.warmupMs} ms warm-up + ${result.preset.durationMs} ms measured per run; ` +
      'figures are medians ± half the min–max spread; CPU from /proc/<pid>/stat over the measured window.',
  ];
  if (result.skipped.length) {
    parts.push(
      '',
      'Not measured:',
      ...result.skipped.map((s) => `- ${s.label}: ${s.reason.split('\n')[0]}`),
    );
  }
  for (const workload of result.workloads)
    parts.push('', workloadSection(workload, result.generator));
  if (result.workloads.some((w) => w.rows.some((r) => r.kind === 'proxy'))) {
    parts.push('', '## Goals', '', goals(result));
  }
  const profile = profileSection(result.profile);
  if (profile) parts.push('', profile);
  return `${parts.join('\n')}\n`;
}

module.exports = { renderMarkdown, num, withSpread, withRange, times, table };

#!/usr/bin/env node
'use strict';
// Prints bench/run's table from the rows the write and read benchmarks
// collected, one a line:
//   # section title[|short title]
//   operation|clance|Lance|target|clance on clance's files
// Values are lower-is-better (seconds, MiB). target:
//   -            none (informational)
//   faster:X     Lance / clance >= X (clance's speed-up, i.e. clance/Lance in rows/s)
//   max:X        clance <= X (MiB)
//   le_lance     clance <= Lance
//   dd:P:BYTES   BYTES / clance seconds >= P % of the dd write bandwidth
//   node report.js RESULTS DD_WRITE_MBS DD_READ_MBS DROPPED MEMCPY_GBS
const fs = require('fs');
const os = require('os');

const [file, ddw, ddr, dropped, memcpy] = process.argv.slice(2);
// Rows under the same section title (a dataset's write and read rows) are
// printed together, sections in order of first appearance.
const sections = new Map();
let cur = '';
for (const l of fs.readFileSync(file, 'utf8').split('\n')) {
  if (!l.length) continue;
  if (l.startsWith('#')) cur = l.slice(1).trim();
  if (!sections.has(cur)) sections.set(cur, []);
  if (!l.startsWith('#')) sections.get(cur).push(l);
}
const lines = [];
for (const [title, rows] of sections) lines.push('# ' + title, ...rows);
const num = (s) => (s === undefined || s === '' || s === '-' ? null : Number(s));
const fmt = (v) => {
  if (v === null) return '-';
  if (Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  return a >= 100 ? v.toFixed(0) : a >= 10 ? v.toFixed(1) : a >= 1 ? v.toFixed(2) : v.toPrecision(3);
};
const W = [50, 10, 10, 8, 12, 8, 11];
const cols = (c) => c.map((s, i) => (i === 0 ? String(s).padEnd(W[i]) : String(s).padStart(W[i]))).join(' ');
console.log('clance vs Lance (@lancedb/lancedb, pinned in tests/interop), same machine, same data, one run.');
console.log('Values: seconds or MiB (lower is better); ratio = Lance / clance (clance\'s speed-up, = clance/Lance in rows/s).');
console.log(cols(['operation', 'clance', 'Lance', 'ratio', 'target', 'met', 'own files¹']));
let section = '', met = 0, total = 0;
const missed = [];
for (const l of lines) {
  if (l.startsWith('#')) { // # long title[|short name for the list of missed targets]
    const [long, short] = l.slice(1).trim().split('|');
    section = short || long;
    console.log('\n' + long);
    continue;
  }
  const [name, cs, ls, target = '-', own] = l.split('|');
  const c = num(cs), lv = num(ls);
  const ratio = c !== null && lv !== null && c > 0 ? lv / c : null;
  let ttext = '-', ok = null, note = '';
  if (target.startsWith('faster:')) {
    const x = Number(target.slice(7));
    ttext = `>= ${x}x`;
    ok = ratio !== null && ratio >= x;
  } else if (target.startsWith('max:')) {
    const x = Number(target.slice(4));
    ttext = `<= ${x} MiB`;
    ok = c !== null && c <= x;
  } else if (target === 'le_lance') {
    ttext = '<= Lance';
    ok = c !== null && lv !== null && c <= lv;
  } else if (target.startsWith('dd:')) {
    const [, p, bytes] = target.split(':');
    ttext = `>= ${p}% dd`;
    const pct = c > 0 && Number(ddw) > 0 ? (Number(bytes) / c / 1e6 / Number(ddw)) * 100 : 0;
    note = ` ${pct.toFixed(0)}%`;
    ok = pct >= Number(p);
  }
  if (ok !== null) {
    total++;
    if (ok) met++;
    else missed.push(`${section}: ${name} (${ttext})`);
  }
  const mtext = ok === null ? '-' : (ok ? 'yes' : 'NO') + note;
  const rtext = ratio === null ? '-' : (ratio >= 100 ? ratio.toFixed(0) : ratio >= 10 ? ratio.toFixed(1) : ratio.toFixed(2)) + 'x';
  console.log(cols(['  ' + name, fmt(c), fmt(lv), rtext, ttext, mtext,
    fmt(num(own))]));
}
console.log('\n¹ clance reading the dataset clance wrote (the read rows otherwise read the files Lance wrote).');
console.log(`machine (same run): disk write ${Number(ddw).toFixed(0)} MB/s (dd, fdatasync), disk read ` +
  `${Number(ddr).toFixed(0)} MB/s (dd, page cache dropped: ${dropped}), memcpy ${memcpy} GB/s, ` +
  `${os.cpus().length} cores, load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);
console.log(`targets met: ${met} of ${total}`);
for (const m of missed) console.log(`  missed: ${m}`);

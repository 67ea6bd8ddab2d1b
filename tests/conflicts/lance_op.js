#!/usr/bin/env node
'use strict';
// One operation on an existing dataset with the real Lance (npm @lancedb/lancedb,
// Lance 12), for the conflict tests. The dataset has columns id:int64, v:int64
// (plus whatever columns earlier operations added).
//   node lance_op.js <dataset_dir.lance> <op> [args...]
//   ops: append FROM COUNT          rows id = FROM.., v = id * 10
//        overwrite FROM COUNT       the same rows as the whole table (mode overwrite)
//        delete PRED                e.g. "id = 3"
//        update PRED COL SQL        e.g. "id < 5" v "v + 1"
//        add-column NAME SQL        computed column, e.g. dbl "id * 2"
//        rename OLD NEW | drop COL  Project
//        optimize                   compaction (Rewrite), as optimize() runs it
//        create-index COL           scalar index
//        restore VERSION            checkout VERSION, then restore()
//        field-metadata COL KEY VALUE  UpdateConfig (field metadata)
// Prints {"ok":true,"version":N} or {"ok":false,"error":"..."} and exits 0
// either way (1 only for bad usage or a crash of the script itself).
if (!process.env.LANCEDB_LOG) process.env.LANCEDB_LOG = 'error';
const path = require('path');
const nm = path.join(__dirname, '..', 'interop', 'node_modules');
const lancedb = require(path.join(nm, '@lancedb', 'lancedb'));
const arrow = require(path.join(nm, 'apache-arrow'));

function rows(from, n, schema) {
  const cols = {};
  for (const f of schema.fields) {
    const a = new BigInt64Array(n);
    for (let i = 0; i < n; i++) {
      const id = from + i;
      a[i] = BigInt(f.name === 'id' ? id : f.name === 'v' ? id * 10 : id * 2);
    }
    cols[f.name] = a;
  }
  return arrow.tableFromArrays(cols);
}

async function main() {
  const [dir, op, ...args] = process.argv.slice(2);
  if (!dir || !op || !dir.endsWith('.lance')) {
    process.stderr.write('usage: node lance_op.js <dataset_dir.lance> <op> [args...]\n');
    process.exit(1);
  }
  const ds = path.resolve(dir);
  const db = await lancedb.connect(path.dirname(ds));
  const t = await db.openTable(path.basename(ds).slice(0, -'.lance'.length));
  try {
    switch (op) {
      case 'append':
        await t.add(rows(Number(args[0]), Number(args[1]), await t.schema()));
        break;
      case 'overwrite':
        await t.add(rows(Number(args[0]), Number(args[1]), await t.schema()), { mode: 'overwrite' });
        break;
      case 'delete': await t.delete(args[0]); break;
      case 'update': await t.update({ where: args[0], valuesSql: { [args[1]]: args[2] } }); break;
      case 'add-column': await t.addColumns([{ name: args[0], valueSql: args[1] }]); break;
      case 'rename': await t.alterColumns([{ path: args[0], rename: args[1] }]); break;
      case 'drop': await t.dropColumns([args[0]]); break;
      case 'optimize': await t.optimize(); break;
      case 'create-index': await t.createIndex(args[0]); break;
      case 'restore': await t.checkout(Number(args[0])); await t.restore(); break;
      case 'field-metadata':
        await t.updateFieldMetadata([{ path: args[0], metadata: { [args[1]]: args[2] } }]);
        break;
      default:
        process.stderr.write(`lance_op: unknown op ${op}\n`);
        process.exit(1);
    }
    process.stdout.write(JSON.stringify({ ok: true, version: await t.version() }) + '\n');
  } catch (e) {
    const msg = String(e && e.message || e).split('\n')[0];
    process.stdout.write(JSON.stringify({ ok: false, error: msg }) + '\n');
  }
}

main().catch((e) => {
  process.stderr.write(`lance_op: ${e.stack || e}\n`);
  process.exit(1);
});

import { Client } from 'pg';
async function main(): Promise<void> {
  const c = new Client({ connectionString: 'postgresql://postgres@127.0.0.1:5432/postgres' });
  await c.connect();
  let i = 0;
  let fired = -1;
  let tfired = -1;
  for (; i < 300; i++) {
    await c.query('SELECT 1');
    if (i === 100) { setImmediate(() => (fired = i)); setTimeout(() => (tfired = i), 0); }
  }
  console.log('pg: immediate at 100 fired at', fired, 'timeout fired at', tfired);
  await c.end();
}
void main();

/** OpenTelemetry from the CLI: a span per command and per model of a bulk run. */
import { createCliWorld } from '../cli/support';
import type { CliWorld } from '../cli/support';
import { installOtel } from './otel';

const otel = installOtel();
let world: CliWorld;

beforeAll(async () => {
  world = await createCliWorld();
});

afterAll(async () => {
  await world?.close();
});

test('each command runs in a span naming it, with its exit code; a bulk run has a span per model', async () => {
  expect((await world.runCli(['keys', 'create', '--scope', 'tenant-otel'])).code).toBe(0);
  expect((await world.runCli(['reencrypt', '--json'])).code).toBe(0);
  const spans = otel.spans();
  const create = spans.find((span) => span.name === 'hushfield.cli keys create');
  expect(create?.attributes).toMatchObject({ 'hushfield.cli.command': 'keys create', 'hushfield.cli.exit_code': 0 });
  expect(
    spans.some((span) => span.name === 'hushfield.keyring.wrap' || span.name === 'hushfield.keyring.generate'),
  ).toBe(true);
  expect(spans.find((span) => span.name === 'hushfield.cli reencrypt')).toBeDefined();
  const bulk = spans.filter((span) => span.name === 'hushfield.bulk');
  expect(bulk.length).toBeGreaterThan(0);
  expect(bulk[0].attributes).toMatchObject({ 'hushfield.bulk.mode': 'reencrypt', 'hushfield.bulk.scanned': 0 });
  expect(JSON.stringify(spans.map((span) => span.attributes))).not.toContain('tenant-otel');
});

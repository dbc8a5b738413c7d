/**
 * Installs the OpenTelemetry SDK with in-memory exporters for a test file (the packages depend
 * on `@opentelemetry/api` only), and flattens what was recorded for assertions.
 */
import { metrics, trace } from '@opentelemetry/api';
import { MeterProvider, MetricReader, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';

/** A reader that exports only when the test collects. */
class TestReader extends MetricReader {
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

/** One data point of a metric, flattened. */
export interface Point {
  readonly name: string;
  readonly attributes: Record<string, unknown>;
  readonly value: unknown;
}

/** The installed SDK: finished spans, collected metric points, and every string they carry. */
export interface Otel {
  spans(): ReadableSpan[];
  points(): Promise<Point[]>;
  /** Names, attribute keys and values, status messages and events of spans and metric points. */
  strings(): Promise<string[]>;
  reset(): void;
}

/** Installs global tracer and meter providers (once per test file). */
export function installOtel(): Otel {
  const exporter = new InMemorySpanExporter();
  trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
  const reader = new TestReader();
  metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }));
  const points = async (): Promise<Point[]> => {
    const { resourceMetrics } = await reader.collect();
    return flatten(resourceMetrics);
  };
  return {
    spans: () => exporter.getFinishedSpans(),
    points,
    async strings() {
      const out: string[] = [];
      for (const span of exporter.getFinishedSpans()) {
        out.push(span.name, span.status.message ?? '');
        for (const [key, value] of Object.entries(span.attributes)) out.push(key, String(value));
        for (const event of span.events) out.push(event.name, JSON.stringify(event.attributes ?? {}));
      }
      for (const point of await points()) {
        out.push(point.name);
        for (const [key, value] of Object.entries(point.attributes)) out.push(key, String(value));
      }
      return out;
    },
    reset: () => exporter.reset(),
  };
}

function flatten(resource: ResourceMetrics): Point[] {
  const out: Point[] = [];
  for (const scope of resource.scopeMetrics) {
    for (const metric of scope.metrics) {
      for (const point of metric.dataPoints as { attributes: Record<string, unknown>; value: unknown }[]) {
        out.push({ name: metric.descriptor.name, attributes: point.attributes, value: point.value });
      }
    }
  }
  return out;
}

/** Sum of a counter's points whose attributes include `match`. */
export function total(points: readonly Point[], name: string, match: Record<string, unknown> = {}): number {
  return points
    .filter(
      (point) => point.name === name && Object.entries(match).every(([key, value]) => point.attributes[key] === value),
    )
    .reduce(
      (sum, point) => sum + (typeof point.value === 'number' ? point.value : (point.value as { count: number }).count),
      0,
    );
}

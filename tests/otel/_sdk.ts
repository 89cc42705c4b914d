// The OpenTelemetry SDK with in-memory exporters, for tests: a meter
// provider whose metrics are read back on demand, a tracer provider that
// keeps every finished span, and a view of both as plain data.
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from "@opentelemetry/sdk-metrics";
import {
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
  TracerProvider,
} from "@opentelemetry/sdk-trace";

/** One data point of an exported metric, as plain data. */
export interface Point {
  attributes: Record<string, unknown>;
  /** A counter's sum. */
  value?: number;
  /** A histogram's count, sum and bucket counts. */
  count?: number;
  sum?: number;
  min?: number;
  max?: number;
  boundaries?: number[];
  counts?: number[];
}

/** One exported metric. */
export interface Metric {
  name: string;
  unit: string;
  description: string;
  points: Point[];
}

/** One finished span, as plain data. */
export interface SpanData {
  name: string;
  kind: number;
  traceId: string;
  spanId: string;
  parentSpanId: string | undefined;
  attributes: Record<string, unknown>;
  status: { code: number; message?: string };
  events: { name: string; attributes: Record<string, unknown> }[];
}

export class TestSdk {
  readonly #metricExporter = new InMemoryMetricExporter(
    AggregationTemporality.CUMULATIVE,
  );
  readonly #reader = new PeriodicExportingMetricReader({
    exporter: this.#metricExporter,
    // Exports on forceFlush(); the interval never fires within a test.
    exportIntervalMillis: 3_600_000,
  });
  readonly #spanExporter = new InMemorySpanExporter();
  readonly meterProvider: MeterProvider = new MeterProvider({
    readers: [this.#reader],
  });
  readonly tracerProvider: TracerProvider = new TracerProvider({
    spanProcessors: [new SimpleSpanProcessor({ exporter: this.#spanExporter })],
  });

  /** The metrics recorded so far (cumulative), by name. */
  async metrics(): Promise<Map<string, Metric>> {
    this.#metricExporter.reset();
    await this.#reader.forceFlush();
    const out = new Map<string, Metric>();
    for (const resource of this.#metricExporter.getMetrics()) {
      for (const scope of resource.scopeMetrics) {
        for (const metric of scope.metrics) {
          const { name, unit, description } = metric.descriptor;
          const points = metric.dataPoints.map((p): Point => {
            const value = p.value as unknown;
            if (typeof value === "number") {
              return { attributes: { ...p.attributes }, value };
            }
            const h = value as {
              count: number;
              sum?: number;
              min?: number;
              max?: number;
              buckets: { boundaries: number[]; counts: number[] };
            };
            return {
              attributes: { ...p.attributes },
              count: h.count,
              ...(h.sum === undefined ? {} : { sum: h.sum }),
              ...(h.min === undefined ? {} : { min: h.min }),
              ...(h.max === undefined ? {} : { max: h.max }),
              boundaries: h.buckets.boundaries,
              counts: h.buckets.counts,
            };
          });
          out.set(name, { name, unit, description, points });
        }
      }
    }
    return out;
  }

  /** The spans finished so far. */
  spans(): SpanData[] {
    return this.#spanExporter.getFinishedSpans().map((s: ReadableSpan) => ({
      name: s.name,
      kind: s.kind,
      traceId: s.spanContext().traceId,
      spanId: s.spanContext().spanId,
      parentSpanId: s.parentSpanContext?.spanId,
      attributes: { ...s.attributes },
      status: { ...s.status },
      events: s.events.map((e) => ({
        name: e.name,
        attributes: { ...e.attributes },
      })),
    }));
  }

  async shutdown(): Promise<void> {
    await this.meterProvider.shutdown();
    await this.tracerProvider.shutdown();
  }
}

/** The sum of a counter's points whose attributes include `where`. */
export function total(
  metrics: Map<string, Metric>,
  name: string,
  where: Record<string, unknown> = {},
): number {
  let sum = 0;
  for (const p of metrics.get(name)?.points ?? []) {
    if (Object.entries(where).every(([k, v]) => p.attributes[k] === v)) {
      sum += p.value ?? p.count ?? 0;
    }
  }
  return sum;
}

/**
 * Everything exported, as text: metric names, units, descriptions and
 * attributes, span names, attributes, status messages and events. What a
 * collector would receive; a test searches it for what must never be
 * there.
 */
export async function exportedText(sdk: TestSdk): Promise<string> {
  return JSON.stringify({
    metrics: [...(await sdk.metrics()).values()],
    spans: sdk.spans(),
  });
}

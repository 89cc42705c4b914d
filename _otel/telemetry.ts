// Where @x/hono-session/otel reports: the meter and tracer providers given,
// or the global ones, looked up at first use (inside the first request, so
// an SDK registered after the middleware was created still gets it).
import {
  type MeterProvider,
  metrics,
  trace,
  type Tracer,
  type TracerProvider,
} from "@opentelemetry/api";
import {
  type Instruments,
  instrumentsOf,
  SCOPE,
  SCOPE_VERSION,
} from "./instruments.ts";

/** The instruments and the tracer one withTelemetry() call reports to. */
export class Telemetry {
  readonly #meterProvider: MeterProvider | undefined;
  readonly #tracerProvider: TracerProvider | undefined;
  #instruments: Instruments | undefined;
  #tracer: Tracer | undefined;

  constructor(
    meterProvider: MeterProvider | undefined,
    tracerProvider: TracerProvider | undefined,
  ) {
    this.#meterProvider = meterProvider;
    this.#tracerProvider = tracerProvider;
  }

  get instruments(): Instruments {
    return this.#instruments ??= instrumentsOf(
      this.#meterProvider ?? metrics.getMeterProvider(),
    );
  }

  get tracer(): Tracer {
    return this.#tracer ??= (this.#tracerProvider ?? trace.getTracerProvider())
      .getTracer(SCOPE, SCOPE_VERSION);
  }
}

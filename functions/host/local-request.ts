import type { HttpRequest, HttpRequestParams, HttpRequestUser } from "@azure/functions";

/**
 * The request object the local host hands to HTTP functions: the same public shape as
 * `@azure/functions`' `HttpRequest` (so handlers cannot tell), built without the `Request` object
 * that class creates on every call (~11 µs, a third of a warm verdict). The body is held as the
 * bytes the host already read (bounded by `HTTP_MAX_BODY_BYTES`) and turned into a stream only
 * when a handler asks for one. `user` is null: there is no App Service authentication locally.
 */
/** An origin (`http://127.0.0.1:7071`) and a request target in origin form (`/api/x?y=1`). */
export interface RequestTarget {
  readonly origin: string;
  readonly path: string;
}

export class LocalHttpRequest implements HttpRequest {
  readonly method: string;
  readonly headers: Headers;
  readonly params: HttpRequestParams;
  readonly user: HttpRequestUser | null = null;
  private readonly bytes: Buffer | undefined;
  private used = false;
  private stream: ReadableStream<Uint8Array> | null | undefined;
  private readonly target: URL | RequestTarget;
  private search: URLSearchParams | undefined;

  /**
   * `url` is a URL, or the origin and the request target as received (`/api/x?y=1`): the host
   * routes on the target's path without parsing a URL, and the query is parsed when first read.
   */
  constructor(init: { method: string; url: URL | RequestTarget; headers: Headers; params: HttpRequestParams; body: Buffer | undefined }) {
    this.method = init.method;
    this.target = init.url;
    this.headers = init.headers;
    this.params = init.params;
    // As with the Functions host, GET and HEAD carry no body.
    this.bytes = init.method === "GET" || init.method === "HEAD" || init.body === undefined || init.body.length === 0 ? undefined : init.body;
  }

  get url(): string {
    return this.target instanceof URL ? this.target.toString() : `${this.target.origin}${this.target.path}`;
  }

  get query(): URLSearchParams {
    if (this.search === undefined) {
      if (this.target instanceof URL) this.search = this.target.searchParams;
      else {
        const q = this.target.path.indexOf("?");
        this.search = new URLSearchParams(q < 0 ? "" : this.target.path.slice(q + 1));
      }
    }
    return this.search;
  }

  get body(): ReadableStream<Uint8Array> | null {
    if (this.stream === undefined) {
      const bytes = this.bytes;
      this.stream =
        bytes === undefined
          ? null
          : new ReadableStream<Uint8Array>(
              {
                pull: (controller) => {
                  this.used = true;
                  controller.enqueue(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
                  controller.close();
                }
              },
              // Nothing is pulled until a reader reads, so `bodyUsed` means "read", as in fetch.
              { highWaterMark: 0 }
            );
    }
    return this.stream;
  }

  get bodyUsed(): boolean {
    return this.used;
  }

  private consume(): Buffer {
    if (this.used) throw new TypeError("Body is unusable: Body has already been read");
    this.used = true;
    return this.bytes ?? Buffer.alloc(0);
  }

  readonly arrayBuffer = async (): Promise<ArrayBuffer> => {
    const b = this.consume();
    return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
  };

  readonly text = async (): Promise<string> => this.consume().toString("utf8");

  readonly json = async (): Promise<unknown> => JSON.parse(this.consume().toString("utf8")) as unknown;

  readonly blob = async (): Promise<Blob> => new Blob([this.consume()], { type: this.headers.get("content-type") ?? "" });

  readonly formData = async (): Promise<FormData> =>
    new Response(this.consume(), { headers: { "content-type": this.headers.get("content-type") ?? "" } }).formData();

  readonly clone = (): HttpRequest =>
    new LocalHttpRequest({ method: this.method, url: this.target instanceof URL ? new URL(this.target) : this.target, headers: new Headers(this.headers), params: { ...this.params }, body: this.bytes });
}

import { randomUUID } from "node:crypto";
import { mkdir } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { Settings } from "../../shared/config.js";
import { isFunctionDisabled } from "../../shared/config.js";
import { describeError } from "../../shared/domain/errors.js";
import { ensureLocalKeys, type LocalKeys } from "../../shared/keys.js";
import type { Logger } from "../../shared/log.js";
import { PACKAGE_ROOT } from "../../shared/version.js";
import type { InvocationContext as Context } from "@azure/functions";
import { LocalInvocationContext } from "./local-context.js";
import type { FunctionDeclaration, HttpFunction, QueueFunction, TimerFunction } from "../declaration.js";
import { invokeHttp, invokeQueue, invokeTimer } from "../invoke.js";
import { createServices, type Services } from "../services.js";
import { resumeWaiting } from "../../shared/usecases/resume-waiting.js";
import { startAzurite, type AzuriteHandle } from "./azurite.js";
import { readQueueSettings, type QueueHostSettings } from "./host-json.js";
import { compileRoute, startHttpServer, type MountedHttpFunction } from "./http-server.js";
import { logHandlerFor } from "./log-handler.js";
import { startQueuePoller, type QueuePoller } from "./queue-poller.js";
import { startTimerScheduler, type Clock, type HostLog, type TimerScheduler } from "./timer-scheduler.js";

/**
 * The local Functions host behind `npm start`: the same declarations `functions/index.ts`
 * registers with Azure, mounted on a node:http server, queue pollers and timers, over Azurite (or
 * the storage account `AzureWebJobsStorage` names) and the store the settings choose.
 */

export interface LocalHostOptions {
  readonly settings: Settings;
  readonly functions: readonly FunctionDeclaration<Services>[];
  readonly log: Logger;
  /** host.json to read the queue settings from; defaults to the package's own. */
  readonly hostJsonPath?: string;
  /** Timers' clock (tests move it by hand). */
  readonly clock?: Clock;
  /** Where relative paths in settings resolve; defaults to the working directory. */
  readonly cwd?: string;
}

export interface LocalHost {
  readonly url: string;
  readonly dataDir: string;
  readonly keys: LocalKeys;
  readonly services: Services;
  readonly azurite: AzuriteHandle | undefined;
  readonly queueSettings: QueueHostSettings;
  /** Names of the functions mounted, by kind; disabled ones are listed apart. */
  readonly mounted: { readonly http: string[]; readonly queue: string[]; readonly timer: string[]; readonly disabled: string[] };
  readonly timers: ReadonlyMap<string, TimerScheduler>;
  /** Stops timers and pollers (waiting for runs in progress), the HTTP server, the store and Azurite. */
  stop(): Promise<void>;
}

function hostLog(log: Logger): HostLog {
  return (level, message) => log[level](message);
}

function contextFor(name: string, log: Logger, triggerMetadata?: Record<string, unknown>): Context {
  return new LocalInvocationContext({
    invocationId: randomUUID(),
    functionName: name,
    ...(triggerMetadata === undefined ? {} : { triggerMetadata }),
    logHandler: logHandlerFor(log.child(name))
  });
}

export async function startLocalHost(options: LocalHostOptions): Promise<LocalHost> {
  const { settings, log } = options;
  const cwd = options.cwd ?? process.cwd();
  const dataDir = resolve(cwd, settings.SCANHOOK_DATA_DIR);
  await mkdir(dataDir, { recursive: true });
  const keys = await ensureLocalKeys(settings, dataDir);
  const queueSettings = await readQueueSettings(options.hostJsonPath ?? join(PACKAGE_ROOT, "host.json"));

  const cleanups: (() => Promise<void>)[] = [];
  const stopAll = async (): Promise<void> => {
    for (const cleanup of cleanups.splice(0).reverse()) {
      try {
        await cleanup();
      } catch (e) {
        log.warn(`stopping: ${describeError(e)}`);
      }
    }
  };

  try {
    let azurite: AzuriteHandle | undefined;
    if (settings.AzureWebJobsStorage === undefined && settings.AzureWebJobsStorage__accountName === undefined) {
      azurite = await startAzurite({
        dataDir,
        blobPort: settings.AZURITE_BLOB_PORT,
        queuePort: settings.AZURITE_QUEUE_PORT,
        log: hostLog(log.child("azurite"))
      });
      const started = azurite;
      cleanups.push(() => started.stop());
    }

    const services = await createServices(
      { ...settings, SCANHOOK_DATA_DIR: dataDir, SQLITE_PATH: settings.SQLITE_PATH === undefined ? undefined : resolve(cwd, settings.SQLITE_PATH) },
      {
        keys: keys.keys,
        maxDequeueCount: queueSettings.maxDequeueCount,
        ...(azurite === undefined ? {} : { storageConnectionString: azurite.connectionString })
      }
    );
    cleanups.push(async () => {
      services.registry.close();
      await services.store.close();
    });

    const disabled: string[] = [];
    const enabled = options.functions.filter((fn) => {
      if (!isFunctionDisabled(settings, fn.name)) return true;
      disabled.push(fn.name);
      return false;
    });
    const http = enabled.filter((fn): fn is HttpFunction<Services> => fn.kind === "http");
    const queues = enabled.filter((fn): fn is QueueFunction<Services> => fn.kind === "queue");
    const timerFns = enabled.filter((fn): fn is TimerFunction<Services> => fn.kind === "timer");

    const pollers: QueuePoller[] = [];
    for (const fn of queues) {
      const poller = await startQueuePoller({
        service: services.storage.queues,
        queueName: fn.queueName,
        settings: queueSettings,
        name: fn.name,
        log: hostLog(log.child(fn.name)),
        handler: (body, metadata) =>
          invokeQueue(fn, body, contextFor(fn.name, log, { ...metadata }), services, queueSettings.maxDequeueCount)
      });
      pollers.push(poller);
      cleanups.push(() => poller.stop());
    }

    const timers = new Map<string, TimerScheduler>();
    for (const fn of timerFns) {
      const scheduler = startTimerScheduler({
        name: fn.name,
        schedule: fn.schedule,
        runOnStartup: fn.runOnStartup ?? false,
        ...(options.clock === undefined ? {} : { clock: options.clock }),
        log: hostLog(log.child(fn.name)),
        handler: (timer) => invokeTimer(fn, timer, contextFor(fn.name, log), services)
      });
      timers.set(fn.name, scheduler);
      cleanups.push(() => scheduler.stop());
    }

    // Nothing waits forever: records still queued (a request lost with a crash, or images recorded
    // before a scanner existed) are asked for again.
    const resumed = await resumeWaiting(
      { images: services.store.images, queues: services.queues, now: () => new Date() },
      { includeRecorded: services.scanner !== undefined }
    );
    if (resumed > 0) log.info(`asked again for ${resumed} queued record(s)`);

    const mountedHttp: MountedHttpFunction[] = http.map((fn) => ({
      fn,
      route: compileRoute(fn.route),
      invoke: (request, context) => invokeHttp(fn, request, context, services)
    }));
    const server = await startHttpServer({
      host: "127.0.0.1",
      port: settings.PORT,
      maxBodyBytes: settings.HTTP_MAX_BODY_BYTES,
      log: log.child("http"),
      functions: mountedHttp
    });
    cleanups.push(() => server.close());

    let stopping: Promise<void> | undefined;
    return {
      url: server.url,
      dataDir,
      keys,
      services,
      azurite,
      queueSettings,
      mounted: { http: http.map((f) => f.name), queue: queues.map((f) => f.name), timer: timerFns.map((f) => f.name), disabled },
      timers,
      stop: () => (stopping ??= stopAll())
    };
  } catch (e) {
    await stopAll();
    throw e;
  }
}

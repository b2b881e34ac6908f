/** `autocap serve`: runs the gateway until SIGTERM or SIGINT, then drains and exits. */
import { CliError } from '../../cli-error.js';
import type { Command } from '../command.js';
import { loadGatewayConfig } from './load-gateway-config.js';

export const serveCommand: Command = {
  name: 'serve',
  summary: 'run the OpenAI-compatible gateway (routes, fails over, meters, records every token)',
  help: () =>
    [
      'autocap serve: run the gateway',
      '',
      'Usage: autocap serve [--config autocap.yaml] [--host 127.0.0.1] [--port 4000] [--demo]',
      '',
      'Without --config it reads ./autocap.yaml, or builds a config from what it finds: OpenAI-compatible',
      'servers on localhost (Ollama 11434, vLLM 8000, llama.cpp 8080) and OPENAI_API_KEY / ANTHROPIC_API_KEY.',
      'Point any OpenAI SDK at it: baseURL http://127.0.0.1:4000/v1, apiKey = the master key or a virtual key.',
      '--demo adds a built-in model (autocap-demo) that answers by describing the request: a first run',
      "with nothing else installed. It is owned and priced at an 8-H100 fleet's levelized cost.",
      'SIGTERM drains: readiness turns 503, in-flight streams finish, the ledger is flushed, then it exits.',
      'Reference: docs/configuration.md.',
    ].join('\n'),
  async run(args, io) {
    const loaded = await loadGatewayConfig(args, io, { discover: true, demo: args.demo === true });
    const port = args.flags?.['port'];
    if (port !== undefined && !(/^\d{1,5}$/.test(port) && Number(port) <= 65535)) {
      throw new CliError(`--port is "${port}": expected a port number (example: --port 4000)`, 'E_USAGE');
    }
    const gateway = await import('@autocap/gateway');
    const demo = args.demo ? await gateway.startDemoUpstream() : null;
    const config = {
      ...loaded,
      models: demo ? [...loaded.models, demo.model] : loaded.models,
      server: {
        ...loaded.server,
        ...(args.flags?.['host'] ? { host: args.flags['host'] } : {}),
        ...(port ? { port: Number(port) } : {}),
      },
    };
    let running: Awaited<ReturnType<typeof gateway.startGateway>>;
    try {
      running = await gateway.startGateway(config);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EADDRINUSE') {
        throw new CliError(
          `port ${config.server.port} on ${config.server.host} is taken: pick another with --port or server.port`,
          'E_USAGE',
        );
      }
      throw error;
    }
    io.stderr(
      `autocap gateway listening on ${running.url}/v1 (${config.models.length === 1 ? '1 model' : `${config.models.length} models`}; config: ${config.source})\n`,
    );
    await new Promise<void>((resolve) => {
      const stop = (): void => {
        process.off('SIGTERM', stop);
        process.off('SIGINT', stop);
        running
          .shutdown()
          .then(() => demo?.close())
          .then(resolve, resolve);
      };
      process.on('SIGTERM', stop);
      process.on('SIGINT', stop);
    });
    return 0;
  },
};

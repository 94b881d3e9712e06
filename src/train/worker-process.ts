/**
 * The process side of a data-parallel worker (`uplift train-worker`, started by data-parallel.ts):
 * on `init` it takes a GPU and its share of the clips; on each `step` it loads the parameters it
 * is sent, computes its clips' gradient and sends it back with their loss. It exits when the
 * training process closes the channel.
 */
import { parameterSpecs, type GraphDescription } from '../core/graph.ts';
import { requestGpu } from '../gpu/device.ts';
import { resolveTrainConfig, type TrainConfig } from './config.ts';
import { readPacked, writePacked, type GradientWorker, type WorkerInit } from './data-parallel.ts';
import { createStepShare } from './tasks.ts';
import { createTrainableNetwork } from './trainable.ts';

type Request =
  ({ type: 'init' } & WorkerInit) | { type: 'step'; step: number; params: Float32Array };

/** Serves the training process over the IPC channel until it disconnects. */
export function runGradientWorker(): Promise<void> {
  if (!process.send) throw new Error('train-worker is started by `uplift train --workers`');
  const send = process.send.bind(process);
  let worker: GradientWorker | undefined;
  let queue = Promise.resolve();
  return new Promise((resolve) => {
    process.on('message', (request: Request) => {
      queue = queue.then(async () => {
        try {
          if (request.type === 'init') {
            const config = resolveTrainConfig(request.config);
            const { device } = await requestGpu();
            const { graph } = request;
            worker = createLocalGradientWorker(
              device,
              config,
              graph,
              request.worker,
              request.workers,
            );
            send({ type: 'ready' });
          } else {
            if (!worker) throw new Error('step before init');
            const gradient = await worker.compute(request.step, request.params);
            send({ type: 'gradient', step: request.step, ...gradient });
          }
        } catch (e) {
          send({ type: 'error', message: e instanceof Error ? e.message : String(e) });
        }
      });
    });
    process.on('disconnect', () => {
      void queue.then(() => {
        worker?.destroy();
        resolve();
      });
    });
  });
}

/**
 * Worker `worker` of `workers` in this process, on `device`: what a worker process runs, and what
 * tests compare it with.
 */
export function createLocalGradientWorker(
  device: GPUDevice,
  config: TrainConfig,
  graph: GraphDescription,
  worker: number,
  workers: number,
): GradientWorker {
  // The parameters arrive with every step: start from zeros.
  const zeros = new Map(parameterSpecs(graph).map((s) => [s.name, new Float32Array(s.length)]));
  // The training process keeps the weight average; a worker only computes gradients.
  const trainable = createTrainableNetwork(device, graph, zeros, {
    ...config.adam,
    averageDecay: 0,
  });
  const share = createStepShare(device, config, trainable, worker, workers);
  return {
    async compute(step, params) {
      writePacked(device, trainable.specs, trainable.network.parameters, params);
      const loss = await (await share.submit(step)).loss;
      const grads = await readPacked(device, trainable.specs, trainable.grads);
      return { loss, grads };
    },
    destroy() {
      share.destroy();
      trainable.destroy();
    },
  };
}

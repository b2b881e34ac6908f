import { findGpu, type GpuSpec } from '@autocap/econ';
import { CliError } from '../cli-error.js';
import { si, usd } from '../format/number.js';
import { section, table } from '../format/table.js';
import { referenceData } from '../reference-data.js';
import { type Command, printJson } from './command.js';

const flops = (value: number | undefined): string => (value === undefined ? '-' : si(value, 'FLOP/s'));
const priceRange = (range: GpuSpec['purchase_usd'], unit = ''): string =>
  `${usd(range.low)}-${usd(range.high)}${unit}`;

function detail(gpu: GpuSpec): string {
  const spec = section(`${gpu.name} (${gpu.id}), released ${gpu.released}`, [
    ['Dense BF16', flops(gpu.peak_flops_per_s.bf16)],
    ['Dense FP8', flops(gpu.peak_flops_per_s.fp8)],
    ['Dense FP4', flops(gpu.peak_flops_per_s.fp4)],
    ['Memory bandwidth', si(gpu.bandwidth_bytes_per_s, 'B/s')],
    ['Memory', si(gpu.memory_bytes, 'B')],
    ['TDP', `${gpu.tdp_w} W`],
    ['Server power per GPU', `${gpu.power_kw_per_gpu_all_in} kW`],
    [
      'Purchase',
      `${usd(gpu.purchase_usd.typical)}`,
      `range ${priceRange(gpu.purchase_usd)}; ${gpu.purchase_usd.source} (${gpu.purchase_usd.date})`,
    ],
    [
      'Rental',
      `${usd(gpu.rental_usd_per_hour.typical)}/hr`,
      `range ${priceRange(gpu.rental_usd_per_hour)}; ${gpu.rental_usd_per_hour.source} (${gpu.rental_usd_per_hour.date})`,
    ],
  ]);
  const sources = gpu.sources.map((entry) => `  ${entry.fields}: ${entry.source} (${entry.date})`);
  return `${spec}\n\nSources\n${sources.join('\n')}`;
}

export const hardwareCommand: Command = {
  name: 'hardware',
  summary: 'the GPU catalog: dense peak FLOP/s, bandwidth, memory, power, prices, with sources',
  help() {
    return [
      'autocap hardware: the GPU catalog (data/hardware.json)',
      '',
      'Usage: autocap hardware [gpu-id] [--json]',
      'With an id, shows one GPU with the source and date of every figure.',
    ].join('\n');
  },
  run(args, io) {
    const [id] = args.positionals;
    if (id !== undefined) {
      const gpu = findGpu(referenceData, id);
      if (!gpu) {
        const known = referenceData.gpus.map((entry) => entry.id).join(', ');
        throw new CliError(`unknown GPU "${id}": use one of ${known}`, 'E_USAGE');
      }
      if (args.json) printJson(io, gpu);
      else io.stdout(`${detail(gpu)}\n`);
      return 0;
    }
    if (args.json) {
      printJson(io, { gpus: referenceData.gpus });
      return 0;
    }
    const rows = referenceData.gpus.map((gpu) => [
      gpu.id,
      flops(gpu.peak_flops_per_s.bf16),
      flops(gpu.peak_flops_per_s.fp8),
      si(gpu.bandwidth_bytes_per_s, 'B/s'),
      si(gpu.memory_bytes, 'B'),
      `${gpu.tdp_w} W`,
      usd(gpu.purchase_usd.typical),
      `${usd(gpu.rental_usd_per_hour.typical)}/hr`,
    ]);
    const right = { align: 'right' } as const;
    io.stdout(
      `${table(
        [
          { header: 'GPU' },
          { header: 'BF16 dense', ...right },
          { header: 'FP8 dense', ...right },
          { header: 'Bandwidth', ...right },
          { header: 'Memory', ...right },
          { header: 'TDP', ...right },
          { header: 'Purchase', ...right },
          { header: 'Rent', ...right },
        ],
        rows,
      )}\n\nTypical prices; \`autocap hardware <id>\` shows ranges and sources.\n`,
    );
    return 0;
  },
};

import { roofline } from '@autocap/econ';
import { si, significant, usd } from '../format/number.js';
import { section } from '../format/table.js';
import { analysisCommand } from './analysis-command.js';
import type { Command } from './command.js';

export const rooflineCommand: Command = analysisCommand({
  analysis: roofline,
  example: 'examples/roofline-70b-fp8-h100.yaml',
  render({ inputs, output }) {
    const gb = (bytes: number): string => si(bytes, 'B');
    const fits = output.fits_in_memory
      ? `yes: ${gb(output.memory_needed_bytes)} of ${gb(inputs.memory_bytes)}`
      : `no: ${gb(output.memory_needed_bytes)} needs ${output.gpus_needed} GPUs of ${gb(inputs.memory_bytes)}`;
    const rows: [string, string, string?][] = [
      [
        'Decode limit',
        `${significant(output.decode_tokens_per_second_limit)} tok/s`,
        `${output.bound}-bound, batch ${inputs.batch}`,
      ],
      ['  per sequence', `${significant(output.decode_tokens_per_second_per_sequence_limit)} tok/s`],
      [
        'Prefill limit',
        `${significant(output.prefill_tokens_per_second_limit)} tok/s`,
        `compute-bound at ${output.precision.toUpperCase()}`,
      ],
      [
        'Cost floor, decode',
        `${usd(output.cost_per_mtok_floor_usd)}/Mtok`,
        `at ${usd(inputs.gpu_hour_usd)} per GPU-hour`,
      ],
      ['Cost floor, prefill', `${usd(output.prefill_cost_per_mtok_floor_usd)}/Mtok`],
      ['Weights', gb(output.weight_bytes)],
      [
        'KV cache per sequence',
        gb(output.kv_bytes_per_sequence),
        `${inputs.context_tokens} tokens of context`,
      ],
      ['Fits in memory', fits],
      [
        'Compute-bound from batch',
        output.compute_bound_from_batch === null ? 'never' : String(output.compute_bound_from_batch),
        output.compute_bound_from_batch === null ? 'KV-cache reads keep decode memory-bound' : '',
      ],
    ];
    const note =
      inputs.efficiency < 1
        ? `at ${significant(inputs.efficiency * 100)}% of peak`
        : 'at 100% of peak: the physical limit';
    return section(`Roofline (${note})`, rows);
  },
});

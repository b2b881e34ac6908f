/** The repository's data tables, for tests and benchmarks (econ itself does no I/O). */
import defaults from '../../../../data/defaults.json' with { type: 'json' };
import hardware from '../../../../data/hardware.json' with { type: 'json' };
import models from '../../../../data/models.json' with { type: 'json' };
import type { ReferenceData } from '../reference-data/reference-data.js';

export const referenceData: ReferenceData = {
  gpus: hardware.gpus,
  models: models.models,
  defaults: defaults.figures,
};

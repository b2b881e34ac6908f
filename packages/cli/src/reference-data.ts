/**
 * The repository's data tables, bundled into the CLI at build time so that no run depends on
 * where the data folder sits. The annotation makes `tsc` check each file against econ's types.
 */
import type { ReferenceData } from '@autocap/econ';
import defaults from '../../../data/defaults.json' with { type: 'json' };
import hardware from '../../../data/hardware.json' with { type: 'json' };
import models from '../../../data/models.json' with { type: 'json' };

export const referenceData: ReferenceData = {
  gpus: hardware.gpus,
  models: models.models,
  defaults: defaults.figures,
};

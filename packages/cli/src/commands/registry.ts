import {
  buildout,
  depreciation,
  finance,
  priceTrend,
  rentVsOwn,
  roofline,
  tco,
  viability,
} from '@autocap/econ';
import { buildoutCommand } from './buildout.js';
import type { Command } from './command.js';
import { depreciationCommand } from './depreciation.js';
import { financeCommand } from './finance.js';
import { configCommand } from './gateway/config.js';
import { keysCommand } from './gateway/keys.js';
import { ledgerCommand } from './gateway/ledger.js';
import { serveCommand } from './gateway/serve.js';
import { teamsCommand } from './gateway/teams.js';
import { usageCommand } from './gateway/usage.js';
import { hardwareCommand } from './hardware.js';
import { priceTrendCommand } from './price-trend.js';
import { rentVsOwnCommand } from './rent-vs-own.js';
import { reportCommand } from './report.js';
import { rooflineCommand } from './roofline.js';
import { simulateCommand } from './simulate.js';
import { tcoCommand } from './tco.js';
import { viabilityCommand } from './viability.js';

/** Every `autocap` command, in the order `--help` lists them. */
export const commands: readonly Command[] = [
  hardwareCommand,
  rooflineCommand,
  tcoCommand,
  priceTrendCommand,
  viabilityCommand,
  depreciationCommand,
  rentVsOwnCommand,
  financeCommand,
  buildoutCommand,
  simulateCommand([roofline, tco, priceTrend, viability, depreciation, rentVsOwn, finance, buildout]),
  reportCommand,
  serveCommand,
  keysCommand,
  teamsCommand,
  usageCommand,
  ledgerCommand,
  configCommand,
];

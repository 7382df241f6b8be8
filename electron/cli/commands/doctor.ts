import type { Command } from 'commander';
import { formatDoctor, runDoctor } from '../../system/doctor.js';
import { defineAction } from '../command.js';

export function registerDoctor(program: Command): void {
  defineAction(
    program
      .command('doctor')
      .description('show what this machine offers Sorta: runtimes, backends, CPU, memory, GPU'),
    async ({ out }) => {
      const report = await runDoctor();
      out.result(report, formatDoctor(report));
    },
  );
}

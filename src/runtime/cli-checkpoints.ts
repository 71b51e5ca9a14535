import type { Command } from 'commander';

// Placeholder until the checkpoint commands land (issue 6).
export function registerCheckpointCommands(_program: Command): void {}

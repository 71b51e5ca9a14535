import type { Command } from 'commander';

// Placeholder until the replay command lands (issue 6).
export function registerReplayCommand(_program: Command): void {}

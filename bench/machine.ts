import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { availableParallelism, cpus, loadavg, totalmem } from "node:os";
import { repositoryRoot } from "./paths.js";

export interface MachineInfo {
  cpuModel: string;
  logicalCpus: number;
  totalMemoryGiB: number;
  nodeVersion: string;
  platform: string;
  jqVersion: string | null;
  /** Whether NODE_EXTRA_CA_CERTS is set, which makes every Node.js process load certificates at start. */
  nodeExtraCaCerts: boolean;
}

export interface SourceInfo {
  commit: string | null;
  /** Whether the worktree had uncommitted changes, in which case the commit alone does not say what ran. */
  dirty: boolean | null;
}

export function describeMachine(): MachineInfo {
  return {
    cpuModel: cpuModel(),
    logicalCpus: availableParallelism(),
    totalMemoryGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    nodeVersion: process.version,
    platform: `${process.platform} ${process.arch}`,
    jqVersion: commandOutput("jq", ["--version"]),
    nodeExtraCaCerts: (process.env["NODE_EXTRA_CA_CERTS"] ?? "") !== "",
  };
}

/** Reads the 1-minute load average: above the number of CPUs, other processes compete with the benchmark. */
export function loadAverage(): number {
  return Math.round((loadavg()[0] ?? 0) * 100) / 100;
}

export function describeSource(): SourceInfo {
  const commit = commandOutput("git", ["rev-parse", "HEAD"]);
  const status = commandOutput("git", ["status", "--porcelain"]);
  return { commit, dirty: status === null ? null : status !== "" };
}

function cpuModel(): string {
  try {
    const match = /^model name\s*:\s*(.+)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"));
    if (match?.[1] !== undefined) return match[1].trim();
  } catch {
    // Not Linux: os.cpus() below has the model on other systems.
  }
  return cpus()[0]?.model ?? "unknown";
}

function commandOutput(command: string, args: string[]): string | null {
  try {
    return execFileSync(command, args, { cwd: repositoryRoot, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return null;
  }
}

// The media cache's shared mechanics: content-addressed folders that appear whole or not at all.
// A builder fills a private temp folder beside the target, which is then renamed into place; when
// another builder won the race its identical result is kept and ours discarded.
import { chmod, mkdir, mkdtemp, rename, rm, stat } from "node:fs/promises";
import { endianness } from "node:os";
import { basename, dirname, join } from "node:path";

export async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Build `dir` through `fill(tmp)`; publishes atomically, cleans up on failure. */
export async function buildCacheDir(dir: string, fill: (tmp: string) => Promise<void>): Promise<void> {
  const parent = dirname(dir);
  await mkdir(parent, { recursive: true });
  const tmp = await mkdtemp(join(parent, `.tmp-${basename(dir).slice(0, 24)}-`));
  try {
    await fill(tmp);
    await chmod(tmp, 0o755); // mkdtemp makes it private; the cache is shared
    try {
      await rename(tmp, dir);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // Another builder finished first: its files are identical in content; keep them.
      if (code !== "ENOTEMPTY" && code !== "EEXIST") throw err;
      await rm(tmp, { recursive: true, force: true });
    }
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
}

/** 16-bit PCM as ffmpeg's `s16le` input (swapped on big-endian hosts). */
export function pcmBytes(pcm: Int16Array): Buffer {
  const buf = Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength);
  return endianness() === "BE" ? Buffer.from(buf).swap16() : buf;
}

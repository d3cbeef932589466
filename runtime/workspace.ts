// A session's workspace folder on the host, mirrored into the guest's in-memory /workspace.
//
// The guest never touches the host file system: its file calls are served from memory
// (wasi/memfs.ts), where a path cannot leave its mount. The host folder is read into
// that tree before each cell (what changed since the last sync) and what the cell
// changed is written back after it. Both directions skip symlinks and anything that is
// neither a file nor a folder, and writes never follow a link, so neither side can be
// used to reach outside the folder.

import {
  closeSync,
  constants,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  realpathSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { type DirNode, type FileNode, type FsNode, makeDir, makeFile } from './wasi/memfs.js';

interface Synced {
  node: FsNode;
  /** The node's mtime and size when host and guest last agreed. */
  nodeMtimeNs: bigint;
  nodeSize: number;
  /** The host file's mtime and size then. */
  hostMtimeMs: number;
  hostSize: number;
}

export class WorkspaceError extends Error {}

function safeName(name: string): boolean {
  return name !== '' && name !== '.' && name !== '..' && !name.includes('/') && !name.includes('\0');
}

export class WorkspaceMirror {
  readonly dir: string;
  private known = new Map<string, Synced>();

  constructor(dir: string, readonly root: DirNode) {
    mkdirSync(dir, { recursive: true });
    this.dir = realpathSync(dir);
    if (!lstatSync(this.dir).isDirectory()) throw new WorkspaceError(`workspace ${dir} is not a folder`);
  }

  /** Host -> guest: files and folders added, changed or removed on the host since the last sync. */
  pull(): void {
    const seen = new Set<string>();
    const walk = (hostDir: string, node: DirNode, rel: string) => {
      for (const entry of readdirSync(hostDir, { withFileTypes: true })) {
        if (!safeName(entry.name)) continue;
        const path = rel ? `${rel}/${entry.name}` : entry.name;
        const full = join(hostDir, entry.name);
        const st = lstatSync(full);
        if (st.isDirectory()) {
          let child = node.entries.get(entry.name);
          if (!child || child.kind !== 'dir') {
            child = makeDir(false, node);
            node.entries.set(entry.name, child);
          }
          seen.add(path);
          this.known.set(path, { node: child, nodeMtimeNs: child.mtimeNs, nodeSize: 0, hostMtimeMs: st.mtimeMs, hostSize: 0 });
          walk(full, child, path);
        } else if (st.isFile()) {
          seen.add(path);
          const rec = this.known.get(path);
          const current = node.entries.get(entry.name);
          if (rec && current === rec.node && rec.hostMtimeMs === st.mtimeMs && rec.hostSize === st.size) continue;
          const data = new Uint8Array(readFileSync(full));
          let file: FileNode;
          if (current?.kind === 'file') {
            file = current; // same node: descriptors the guest holds see the new contents
            file.data = data;
            file.size = data.length;
            file.mtimeNs = BigInt(Math.round(st.mtimeMs * 1e6));
          } else {
            file = makeFile(data, false);
            file.mtimeNs = BigInt(Math.round(st.mtimeMs * 1e6));
            node.entries.set(entry.name, file);
          }
          this.known.set(path, { node: file, nodeMtimeNs: file.mtimeNs, nodeSize: file.size, hostMtimeMs: st.mtimeMs, hostSize: st.size });
        }
        // symlinks, sockets, devices: not part of the workspace
      }
    };
    walk(this.dir, this.root, '');
    // Removed on the host: remove from the guest's tree too (deepest first).
    for (const path of [...this.known.keys()].sort().reverse()) {
      if (seen.has(path)) continue;
      const rec = this.known.get(path)!;
      const { parent, name } = this.locate(path);
      if (parent && parent.entries.get(name) === rec.node) parent.entries.delete(name);
      this.known.delete(path);
    }
  }

  /** Guest -> host: what the last cell created, changed or removed. */
  push(): void {
    const seen = new Set<string>();
    const errors: string[] = [];
    const walk = (node: DirNode, rel: string) => {
      for (const [name, child] of node.entries) {
        if (!safeName(name)) continue;
        const path = rel ? `${rel}/${name}` : name;
        seen.add(path);
        const rec = this.known.get(path);
        const changed = !rec || rec.node !== child || rec.nodeMtimeNs !== child.mtimeNs || (child.kind === 'file' && rec.nodeSize !== child.size);
        try {
          if (child.kind === 'dir') {
            if (changed) this.ensureDir(path);
            if (changed) this.record(path, child);
            walk(child, path);
          } else if (changed) {
            this.writeFile(path, child);
            this.record(path, child);
          }
        } catch (err) {
          errors.push(`${path}: ${(err as Error).message}`);
        }
      }
    };
    walk(this.root, '');
    for (const path of [...this.known.keys()].sort().reverse()) {
      if (seen.has(path)) continue;
      this.known.delete(path);
      const full = this.hostPath(path);
      try {
        const st = lstatSync(full, { throwIfNoEntry: false });
        // rmSync removes a link itself, never what it points to.
        if (st && (st.isFile() || st.isDirectory())) rmSync(full, { recursive: true, force: true });
      } catch (err) {
        errors.push(`${path}: ${(err as Error).message}`);
      }
    }
    if (errors.length) throw new WorkspaceError(`could not write the workspace back to ${this.dir}: ${errors.slice(0, 3).join('; ')}`);
  }

  private record(path: string, node: FsNode): void {
    const st = lstatSync(this.hostPath(path));
    this.known.set(path, {
      node,
      nodeMtimeNs: node.mtimeNs,
      nodeSize: node.kind === 'file' ? node.size : 0,
      hostMtimeMs: st.mtimeMs,
      hostSize: node.kind === 'file' ? st.size : 0,
    });
  }

  private locate(path: string): { parent: DirNode | undefined; name: string } {
    const parts = path.split('/');
    let dir: DirNode | undefined = this.root;
    for (const p of parts.slice(0, -1)) {
      const next: FsNode | undefined = dir?.entries.get(p);
      dir = next?.kind === 'dir' ? next : undefined;
    }
    return { parent: dir, name: parts[parts.length - 1]! };
  }

  private hostPath(path: string): string {
    return join(this.dir, ...path.split('/'));
  }

  /** Makes every folder of `path` on the host, refusing any component that is a link. */
  private ensureDir(path: string): void {
    let cur = this.dir;
    for (const part of path.split('/')) {
      cur = join(cur, part);
      const st = lstatSync(cur, { throwIfNoEntry: false });
      if (!st) mkdirSync(cur);
      else if (!st.isDirectory()) throw new WorkspaceError('a file or link on the host is in the way');
    }
  }

  private writeFile(path: string, file: FileNode): void {
    const parts = path.split('/');
    if (parts.length > 1) this.ensureDir(parts.slice(0, -1).join('/'));
    const full = this.hostPath(path);
    const st = lstatSync(full, { throwIfNoEntry: false });
    if (st && !st.isFile()) throw new WorkspaceError('a folder or link on the host is in the way');
    // O_NOFOLLOW: a link put there since the check above is refused, not followed.
    const fd = openSync(full, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW, 0o644);
    try {
      let off = 0;
      while (off < file.size) off += writeSync(fd, file.data, off, file.size - off);
    } finally {
      closeSync(fd);
    }
  }
}

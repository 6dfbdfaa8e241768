/** Joins the injectable filesystem root to an absolute path ('' or '/' is the real root). */
export function underRoot(root: string, absolutePath: string): string {
  if (root === '' || root === '/') return absolutePath;
  return root.endsWith('/') ? root.slice(0, -1) + absolutePath : root + absolutePath;
}

/** The parent directory of an absolute path ('/a/b' -> '/a'; '/a' -> '/'). */
export function parentDir(path: string): string {
  const trimmed = path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
  const slash = trimmed.lastIndexOf('/');
  return slash <= 0 ? '/' : trimmed.slice(0, slash);
}

export function joinPath(dir: string, name: string): string {
  return dir.endsWith('/') ? dir + name : `${dir}/${name}`;
}

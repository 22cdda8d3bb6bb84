import { MissingPackageError } from './errors.ts';

/** For a failed `import()`: a missing module becomes a {@link MissingPackageError}. */
export function missingPackage(packages: readonly string[], needer: string) {
  return (error: unknown): never => {
    const code = (error as { code?: unknown } | null)?.code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND')
      throw new MissingPackageError(packages, needer, { cause: error });
    throw error;
  };
}

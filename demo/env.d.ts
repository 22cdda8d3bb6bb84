interface ImportMetaEnv {
  readonly VITE_HANDOUT_COORDINATOR?: string;
}
interface ImportMeta {
  readonly env: ImportMetaEnv;
}

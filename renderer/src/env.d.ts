/// <reference types="vite/client" />
import type { MedusApi } from '../../electron/shared/ipc-contract';

declare global {
  interface Window {
    medus?: MedusApi;
  }
}

declare module '*.vue' {
  import type { DefineComponent } from 'vue';
  const component: DefineComponent<object, object, unknown>;
  export default component;
}

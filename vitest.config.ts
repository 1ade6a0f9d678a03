import { defineConfig } from 'vitest/config';

// GPU kernel tests run twice, once per software device (SwiftShader through Vulkan at core level,
// llvmpipe through OpenGL ES at compatibility level); every other test runs once.
const shared = { pool: 'forks', testTimeout: 60_000, hookTimeout: 60_000, globalSetup: ['test/support/build-runtime.ts'] } as const;

export default defineConfig({
  test: {
    ...shared,
    projects: [
      { test: { ...shared, name: 'unit', include: ['test/**/*.test.ts'], exclude: ['test/gpu/**', '**/node_modules/**'] } },
      {
        test: {
          ...shared,
          name: 'gpu-vulkan',
          include: ['test/gpu/**/*.test.ts'],
          env: { VK_ICD_FILENAMES: '/usr/lib/chromium/vk_swiftshader_icd.json', CNNC_WEBGPU_BACKEND: 'vulkan' },
        },
      },
      {
        test: {
          ...shared,
          name: 'gpu-opengles',
          include: ['test/gpu/**/*.test.ts'],
          env: { EGL_PLATFORM: 'surfaceless', CNNC_WEBGPU_BACKEND: 'opengles' },
        },
      },
    ],
  },
});

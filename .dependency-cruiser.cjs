// The rooms of src/ and which way their imports may point (docs/ARCHITECTURE.md draws the same).
// Checked by `depcruise` in scripts/test.sh and test/architecture.test.ts: no import circle anywhere
// (type-only imports count too), and no arrow from a room to one above it or beside it.
//
// Layers, top to bottom. Rooms in one layer are siblings: they may not import each other.
const LAYERS = [
  [['cli', '^src/cli/']],
  [['operator', '^src/operator/'], ['admin', '^src/admin/']],
  [['failover runtime', '^src/failover/runtime/']],
  [['failover link', '^src/failover/link/']],
  [['failover rules', '^src/failover/rules/']],
  [['failover wire', '^src/failover/wire/']],
  [['failover protocol', '^src/failover/protocol/']],
  [['dhcp server', '^src/dhcp/(?!wire/)']],
  [['leases', '^src/leases/']],
  [['config', '^src/config/']],
  [['dhcp wire', '^src/dhcp/wire/']],
  [['metrics', '^src/metrics/']],
  [['base', '^src/(net/|log\\.ts$|clock\\.ts$|errors\\.ts$)']],
];

const layering = [];
LAYERS.forEach((layer, i) => {
  const above = LAYERS.slice(0, i).flat().map(([, path]) => path);
  for (const [name, path] of layer) {
    const siblings = layer.filter(([other]) => other !== name).map(([, p]) => p);
    const forbiddenTargets = [...above, ...siblings];
    if (forbiddenTargets.length === 0) continue;
    layering.push({
      name: `layers: ${name}`,
      comment: `${name} may import only rooms below it (.dependency-cruiser.cjs LAYERS)`,
      severity: 'error',
      from: { path },
      to: { path: forbiddenTargets },
    });
  }
});

module.exports = {
  forbidden: [
    { name: 'no-circular', comment: 'import circles tie rooms together', severity: 'error', from: {}, to: { circular: true } },
    { name: 'src-not-tests', comment: 'product code never imports test or bench code', severity: 'error', from: { path: '^src/' }, to: { path: '^(test|bench|scripts)/' } },
    { name: 'every-module-in-a-room', comment: 'a new top-level room must be placed in LAYERS', severity: 'error',
      from: { path: '^src/', pathNot: LAYERS.flat().map(([, p]) => p) }, to: {} },
    ...layering,
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};

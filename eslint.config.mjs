import { config } from '@n8n/node-cli/eslint';

// n8n's rules are for code that runs inside n8n: nodes/, credentials/ and package.json. The development
// tools (tools/, scripts/, test/) run in Node, may use timers, the file system and the console, and are
// type-checked by `npm run typecheck`. Changing this file means n8n-node's strict mode is off (package.json).
// .cache/ holds the real n8n installs and their run folders (tools/n8n).
export default [{ ignores: ['tools/**', 'scripts/**', 'test/**', '.cache/**'] }, ...config];

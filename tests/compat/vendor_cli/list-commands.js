// Prints, as JSON, every command twilio-cli has under a prefix (the API commands are generated at
// start-up from the OpenAPI files inside @twilio/cli-core, so they are in no manifest): {id: [flags]}.
// Usage: node list-commands.js api:flex:v1:plugin-service
const path = require('path');

const root = path.dirname(require.resolve('twilio-cli/package.json', { paths: [__dirname] }));
const { Config } = require(require.resolve('@oclif/core', { paths: [root] }));

(async () => {
  const config = await Config.load(root);
  await config.runHook('init', { id: 'help', argv: [] });
  const prefix = process.argv[2] || '';
  const commands = {};
  for (const command of config.commands) {
    if (command.id.startsWith(prefix)) {
      commands[command.id] = Object.keys(command.flags || {}).sort();
    }
  }
  process.stdout.write(JSON.stringify(commands, Object.keys(commands).sort(), 2));
})().catch((error) => {
  console.error(error);
  process.exit(1);
});

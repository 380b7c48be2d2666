import { Help, type Command } from 'commander';

/** `node keygen`: a command's name with its parents', below the program itself. */
function fullName(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c?.parent; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/**
 * Help that lists every command, nested ones included (`node add`, `secrets rotate`), one line
 * each, so `haven --help` alone shows everything there is.
 */
export const flatHelp: Partial<Help> = {
  // One line per command and option, whatever the terminal (or a pipe's 80 columns) would wrap at.
  helpWidth: 200,
  visibleCommands(this: Help, cmd: Command): Command[] {
    const out: Command[] = [];
    for (const c of Help.prototype.visibleCommands.call(this, cmd)) {
      const children = c.commands.length > 0 ? this.visibleCommands(c).filter((k) => k.name() !== 'help') : [];
      if (children.length > 0) out.push(...children);
      else out.push(c);
    }
    return out;
  },
  subcommandTerm(this: Help, cmd: Command): string {
    const term = Help.prototype.subcommandTerm.call(this, cmd);
    const parents = fullName(cmd).split(' ').slice(0, -1).join(' ');
    return parents ? `${parents} ${term}` : term;
  },
};

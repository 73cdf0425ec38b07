import type { StageSettings } from "@sluice/core";

// A service builds its pipeline per request, with the same options literal every time
// (`{ workers: 16 }`): validating it anew was a tenth of a small run (bench E). A memo
// remembers the last few options each method resolved, by their own keys and values, and
// hands back the same frozen settings when a new object holds exactly the same ones. Only
// options whose values are primitives or functions are remembered: an object value (a
// `retry` object, a rate-limit window) could have changed inside since it was checked.

/** How many resolutions each method remembers: a pipeline may use one method several times. */
const SLOTS = 4;

/** One remembered resolution: the options' keys and values in enumeration order, the stage number, the result. */
class Remembered {
  constructor(
    readonly keys: readonly string[],
    readonly values: readonly unknown[],
    readonly stageNumber: number,
    readonly settings: StageSettings,
  ) {}
}

/** The resolutions one method remembers, replaced in turn. */
export class SettingsMemo {
  readonly #slots: (Remembered | undefined)[] = new Array<Remembered | undefined>(SLOTS).fill(undefined);
  #next = 0;

  /** The settings resolved earlier from options with the same keys and values, if remembered. */
  find(options: object | undefined, stageNumber: number): StageSettings | undefined {
    for (let i = 0; i < SLOTS; i++) {
      const slot = this.#slots[i];
      if (slot !== undefined && slot.stageNumber === stageNumber && sameEntries(slot, options)) return slot.settings;
    }
    return undefined;
  }

  /** Remembers `settings` for `options`, unless a value of theirs is an object. */
  remember(options: object | undefined, stageNumber: number, settings: StageSettings): void {
    const keys: string[] = [];
    const values: unknown[] = [];
    if (options !== undefined) {
      const given = options as Record<string, unknown>;
      for (const key in given) {
        const value = given[key];
        if (value !== null && typeof value === "object") return;
        keys.push(key);
        values.push(value);
      }
    }
    this.#slots[this.#next] = new Remembered(keys, values, stageNumber, settings);
    this.#next = (this.#next + 1) % SLOTS;
  }
}

function sameEntries(slot: Remembered, options: object | undefined): boolean {
  const { keys, values } = slot;
  if (options === undefined) return keys.length === 0;
  const given = options as Record<string, unknown>;
  let n = 0;
  for (const key in given) {
    if (n === keys.length || keys[n] !== key || values[n] !== given[key]) return false;
    n++;
  }
  return n === keys.length;
}

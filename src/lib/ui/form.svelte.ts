/**
 * A form's submission: `submit` is its `onsubmit` handler. It stops the page from reloading, clears the
 * last error, runs the action, and keeps a failure's message in `error` for the form to show; `busy` is
 * true while the action runs.
 * @example
 * const form = new FormAction(() => saveSchedule(getDb(), schedule));
 * <form onsubmit={form.submit}> … {#if form.error}<p class="error" role="alert">{form.error}</p>{/if}</form>
 */
export class FormAction {
  busy = $state(false);
  error = $state<string>();
  readonly #action: () => unknown;

  constructor(action: () => unknown) {
    this.#action = action;
  }

  readonly submit = async (event?: Event): Promise<void> => {
    event?.preventDefault();
    this.error = undefined;
    this.busy = true;
    try {
      await this.#action();
    } catch (error) {
      this.error = error instanceof Error ? error.message : String(error);
    } finally {
      this.busy = false;
    }
  };
}

export type NoticeLevel = 'info' | 'ok' | 'warn' | 'error';

export interface Notice {
  id: number;
  level: NoticeLevel;
  message: string;
}

/** Toasts shown by the shell: worker crashes, finished jobs, failed saves. */
class Notifications {
  items = $state<Notice[]>([]);
  #next = 1;

  push(level: NoticeLevel, message: string, timeoutMs = level === 'error' ? 0 : 6000): number {
    const id = this.#next++;
    this.items = [...this.items, { id, level, message }];
    if (timeoutMs > 0) setTimeout(() => this.dismiss(id), timeoutMs);
    return id;
  }

  dismiss(id: number): void {
    this.items = this.items.filter((n) => n.id !== id);
  }
}

export const notifications = new Notifications();

/** Shows a toast; errors stay until dismissed. */
export function notify(level: NoticeLevel, message: string): number {
  return notifications.push(level, message);
}

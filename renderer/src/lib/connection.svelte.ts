/**
 * Whether the core can be reached. In web mode the page loses it when `sorta serve` stops or the network goes;
 * the transport keeps retrying, and each time it comes back `generation` grows so that pictures reload and the
 * app asks the core again what is running.
 */
export class Connection {
  online = $state(true);
  generation = $state(0);

  /** Applies a change the transport reported; true when the connection just came back. */
  set(connected: boolean): boolean {
    if (connected === this.online) return false;
    this.online = connected;
    if (connected) this.generation++;
    return connected;
  }
}

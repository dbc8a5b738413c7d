import { classifyExpiry, tcpTarget } from './tls-probe';

const now = new Date('2026-06-01T00:00:00Z');
const inDays = (days: number) => new Date(now.getTime() + days * 86_400_000 + 3_600_000);

describe('classifyExpiry', () => {
  test('is ok with more than 30 days left', () => {
    expect(classifyExpiry(inDays(31), now)).toEqual({ level: 'ok', daysLeft: 31 });
  });

  test.each([
    [30, 30],
    [15, 30],
    [14, 14],
    [8, 14],
    [7, 7],
    [0, 7],
  ])('warns with %i days left (threshold %i)', (days, threshold) => {
    expect(classifyExpiry(inDays(days), now)).toEqual({ level: 'warn', daysLeft: days, threshold });
  });

  test('fails once expired', () => {
    expect(classifyExpiry(new Date(now.getTime() - 1000), now).level).toBe('fail');
  });
});

describe('tcpTarget', () => {
  test('reads host and port, defaulting to 5432', () => {
    expect(tcpTarget('postgresql://u:p@db.example.com:6543/app')).toEqual({ host: 'db.example.com', port: 6543 });
    expect(tcpTarget('postgres://db/app')).toEqual({ host: 'db', port: 5432 });
    expect(tcpTarget('postgresql://u@[::1]:5433/app')).toEqual({ host: '::1', port: 5433 });
  });

  test('has no TCP target for Unix sockets, other schemes or garbage', () => {
    expect(tcpTarget('postgresql://u@/app?host=/var/run/postgresql')).toBeNull();
    expect(tcpTarget('mysql://u@db/app')).toBeNull();
    expect(tcpTarget('not a url')).toBeNull();
  });
});

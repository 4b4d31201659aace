import type { LicensingCall } from '../../../scripts/bench/awsCalls';
import { licensingCallsMet, newOrderMet, type Results, verdicts } from '../../../scripts/bench/report';

/**
 * The license API's goal lines in `npm run bench` (issue 11, "Numbers"): a validate is exactly one
 * DynamoDB Query; an activate at most one read and one conditional write. The counts come from
 * the run; these tests pin how they are judged.
 */
describe('bench: license API call goals', () => {
  const call = (over: Partial<LicensingCall>): LicensingCall => ({
    label: 'x',
    route: 'validate',
    status: 200,
    code: 'VALID',
    calls: 1,
    reads: 1,
    writes: 0,
    conditionalWrites: 0,
    ops: 'Query×1',
    ...over,
  });

  it('meets the validate goal only with one Query and nothing else', () => {
    expect(licensingCallsMet(call({}))).toBe(true);
    expect(licensingCallsMet(call({ ops: 'GetItem×1' }))).toBe(false);
    expect(licensingCallsMet(call({ calls: 2, reads: 2, ops: 'Query×2' }))).toBe(false);
    expect(licensingCallsMet(call({ calls: 2, writes: 1, conditionalWrites: 1, ops: 'Query×1, UpdateItem×1' }))).toBe(false);
  });

  it('meets the activate goal with a read and a conditional write, not with an unconditional or a second write', () => {
    const activate = (over: Partial<LicensingCall>) => call({ route: 'activate', calls: 2, reads: 1, writes: 1, conditionalWrites: 1, ops: 'Query×1, UpdateItem×1', ...over });
    expect(licensingCallsMet(activate({}))).toBe(true);
    expect(licensingCallsMet(activate({ calls: 1, writes: 0, conditionalWrites: 0, ops: 'Query×1' }))).toBe(true);
    expect(licensingCallsMet(activate({ conditionalWrites: 0 }))).toBe(false);
    expect(licensingCallsMet(activate({ calls: 3, writes: 2, conditionalWrites: 2 }))).toBe(false);
    expect(licensingCallsMet(activate({ calls: 3, reads: 2 }))).toBe(false);
  });

  it('sets no goal for deactivate, and lists a goal line per validate and activate measured', () => {
    const results: Results = {
      calls: {
        newOrder: {} as never,
        resentWithinWindow: {} as never,
        redelivered: { worker: 1 } as never,
        resentAfterWindow: {} as never,
        ordersPerProvider: 1,
        liveOrder: {} as never,
        licensing: [
          call({ label: 'validate' }),
          call({ label: 'activate, new instance', route: 'activate', calls: 2, writes: 1, conditionalWrites: 0, ops: 'Query×1, UpdateItem×1' }),
          call({ label: 'deactivate', route: 'deactivate', calls: 2, writes: 1, conditionalWrites: 1 }),
        ],
      },
    };
    const lines = verdicts(results).filter((v) => v.figure.startsWith('license API'));
    expect(lines).toEqual([
      { figure: 'license API DynamoDB calls: validate', met: true },
      { figure: 'license API DynamoDB calls: activate, new instance', met: false },
    ]);
  });
});

describe('new-order call goal (issue 6, plus issue 11 license views)', () => {
  it('judges issue 6 on the calls without views, and wants exactly one view write per license', () => {
    expect(newOrderMet({ ingress: 2, worker: 5, workerViews: 2, licenses: 2 })).toBe(true);
    expect(newOrderMet({ ingress: 2, worker: 6, workerViews: 2, licenses: 2 })).toBe(false);
    expect(newOrderMet({ ingress: 2, worker: 4, workerViews: 1, licenses: 2 })).toBe(false);
    expect(newOrderMet({ ingress: 2, worker: 3, workerViews: 0 })).toBe(false);
  });
});

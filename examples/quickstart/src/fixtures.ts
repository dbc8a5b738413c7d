/**
 * The clinic's made-up tenants and patients. Names, emails and SSNs are fictitious (SSNs in
 * the 9xx range are never issued).
 */

/** A clinic group and its patients. */
export interface TenantFixture {
  readonly id: string;
  readonly name: string;
  readonly patients: readonly PatientFixture[];
}

/** One patient with one visit. */
export interface PatientFixture {
  readonly mrn: string;
  readonly name: string;
  readonly email: string;
  readonly ssn: string;
  readonly diagnosisNotes: string;
  readonly visitNotes: string;
}

/** Northside stays a customer; Harbor leaves and asks for erasure. */
export const TENANTS: readonly TenantFixture[] = [
  {
    id: 'northside',
    name: 'Northside Family Clinic',
    patients: [
      {
        mrn: 'N-1001',
        name: 'Ada Okafor',
        email: 'ada.okafor@example.com',
        ssn: '900-12-3456',
        diagnosisNotes: 'Type 2 diabetes, diet-controlled. Allergic to penicillin.',
        visitNotes: 'HbA1c 6.4%. Continue current plan, recheck in 3 months.',
      },
      {
        mrn: 'N-1002',
        name: 'Bruno Silva',
        email: 'bruno.silva@example.com',
        ssn: '900-23-4567',
        diagnosisNotes: 'Mild persistent asthma.',
        visitNotes: 'Peak flow normal. Renewed inhaler prescription.',
      },
      {
        mrn: 'N-1003',
        name: 'Chen Wei',
        email: 'chen.wei@example.com',
        ssn: '900-34-5678',
        diagnosisNotes: 'Hypertension, stage 1.',
        visitNotes: 'BP 128/82 on lisinopril 10 mg. No side effects reported.',
      },
    ],
  },
  {
    id: 'harbor',
    name: 'Harbor Pediatrics',
    patients: [
      {
        mrn: 'H-2001',
        name: 'Dara Nolan',
        email: 'dara.nolan@example.org',
        ssn: '900-45-6789',
        diagnosisNotes: 'Seasonal allergic rhinitis.',
        visitNotes: 'Started cetirizine 5 mg daily.',
      },
      {
        mrn: 'H-2002',
        name: 'Emil Berg',
        email: 'emil.berg@example.org',
        ssn: '900-56-7890',
        diagnosisNotes: 'Otitis media, recurrent.',
        visitNotes: 'Referred to ENT for evaluation of ear tubes.',
      },
    ],
  },
];

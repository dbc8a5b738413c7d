-- AlterTable
ALTER TABLE "lockers" ADD COLUMN     "codes" VARCHAR(300)[];

CREATE SCHEMA rt_auth;
CREATE TABLE rt_auth.users (id uuid PRIMARY KEY, phone text, created_at timestamp(3) NOT NULL DEFAULT now(), updated_at timestamp(3) NOT NULL);
CREATE TABLE rt_auth.sessions (id text PRIMARY KEY, user_id uuid NOT NULL REFERENCES rt_auth.users (id) ON DELETE CASCADE, user_agent text);
CREATE TABLE public.rt_profiles (id uuid PRIMARY KEY REFERENCES rt_auth.users (id) ON DELETE CASCADE, email text NOT NULL, email_idx text NOT NULL UNIQUE, settings jsonb, phones text[] NOT NULL DEFAULT '{}');
CREATE TABLE public.rt_organizations (id text PRIMARY KEY, name text NOT NULL);
CREATE TABLE public.rt_billing (id text PRIMARY KEY REFERENCES public.rt_organizations (id) ON DELETE CASCADE ON UPDATE CASCADE, tax_id text NOT NULL);

--
-- PostgreSQL database dump
--
-- Baseline of the helpdesk database, taken from production with
--   pg_dump --schema-only --no-owner --no-privileges helpdesk
-- when the team moved to Flyway. Do not edit: Flyway checks its checksum.
--

-- Dumped from database version 12.4
-- Dumped by pg_dump version 12.4

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

--
-- Name: app; Type: SCHEMA; Schema: -; Owner: -
--

CREATE SCHEMA app;


--
-- Name: citext; Type: EXTENSION; Schema: -; Owner: -
--

CREATE EXTENSION IF NOT EXISTS citext WITH SCHEMA public;


--
-- Name: EXTENSION citext; Type: COMMENT; Schema: -; Owner: -
--

COMMENT ON EXTENSION citext IS 'data type for case-insensitive character strings';


--
-- Name: pgcrypto; Type: EXTENSION; Schema: -; Owner: -
--

CREATE EXTENSION IF NOT EXISTS pgcrypto WITH SCHEMA public;


--
-- Name: EXTENSION pgcrypto; Type: COMMENT; Schema: -; Owner: -
--

COMMENT ON EXTENSION pgcrypto IS 'cryptographic functions';


--
-- Name: set_updated_at(); Type: FUNCTION; Schema: app; Owner: -
--

CREATE FUNCTION app.set_updated_at() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END;
$$;


SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: tenant; Type: TABLE; Schema: app; Owner: -
--

CREATE TABLE app.tenant (
    id uuid DEFAULT public.gen_random_uuid() NOT NULL,
    slug text NOT NULL,
    display_name text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT tenant_slug_check CHECK ((slug ~ '^[a-z0-9-]{3,40}$'::text))
);


--
-- Name: account; Type: TABLE; Schema: app; Owner: -
--

CREATE TABLE app.account (
    id bigint NOT NULL,
    tenant_id uuid NOT NULL,
    name text NOT NULL,
    plan text DEFAULT 'free'::text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT account_plan_check CHECK ((plan = ANY (ARRAY['free'::text, 'team'::text, 'enterprise'::text])))
);


--
-- Name: account_id_seq; Type: SEQUENCE; Schema: app; Owner: -
--

CREATE SEQUENCE app.account_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: account_id_seq; Type: SEQUENCE OWNED BY; Schema: app; Owner: -
--

ALTER SEQUENCE app.account_id_seq OWNED BY app.account.id;


--
-- Name: account id; Type: DEFAULT; Schema: app; Owner: -
--

ALTER TABLE ONLY app.account ALTER COLUMN id SET DEFAULT nextval('app.account_id_seq'::regclass);


--
-- Name: account account_pkey; Type: CONSTRAINT; Schema: app; Owner: -
--

ALTER TABLE ONLY app.account
    ADD CONSTRAINT account_pkey PRIMARY KEY (id);


--
-- Name: tenant tenant_pkey; Type: CONSTRAINT; Schema: app; Owner: -
--

ALTER TABLE ONLY app.tenant
    ADD CONSTRAINT tenant_pkey PRIMARY KEY (id);


--
-- Name: tenant tenant_slug_key; Type: CONSTRAINT; Schema: app; Owner: -
--

ALTER TABLE ONLY app.tenant
    ADD CONSTRAINT tenant_slug_key UNIQUE (slug);


--
-- Name: account_tenant_id_idx; Type: INDEX; Schema: app; Owner: -
--

CREATE INDEX account_tenant_id_idx ON app.account USING btree (tenant_id);


--
-- Name: account account_set_updated_at; Type: TRIGGER; Schema: app; Owner: -
--

CREATE TRIGGER account_set_updated_at BEFORE UPDATE ON app.account FOR EACH ROW EXECUTE FUNCTION app.set_updated_at();


--
-- Name: tenant tenant_set_updated_at; Type: TRIGGER; Schema: app; Owner: -
--

CREATE TRIGGER tenant_set_updated_at BEFORE UPDATE ON app.tenant FOR EACH ROW EXECUTE FUNCTION app.set_updated_at();


--
-- Name: account account_tenant_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: -
--

ALTER TABLE ONLY app.account
    ADD CONSTRAINT account_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES app.tenant(id) ON DELETE CASCADE;


--
-- PostgreSQL database dump complete
--

